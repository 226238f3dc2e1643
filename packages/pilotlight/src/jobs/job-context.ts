/** What a running job's handler receives besides its arguments. */
export interface JobContext {
  readonly jobId: string;
  readonly type: string;
  /** Method of a class-based job; empty for a function job. */
  readonly method: string;
  readonly queue: string;
  /** 1 for the first execution, 2 for the next, ... */
  readonly attempt: number;
  /** Retries scheduled so far after failed attempts. */
  readonly retryCount: number;
  /** The worker running the job (`host:pid:id`). */
  readonly serverName: string;
  /**
   * For a continuation (`continueWith()`): what its parent job's handler returned (its stored
   * result, parsed), read when this attempt started; undefined when the parent returned nothing,
   * its result could not be stored, or the job is not a continuation.
   */
  readonly parentResult: unknown;
  /** Metadata stored with the job when it was created (read-only). */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Aborted when the worker stops and the job must hand back its work, or when the job is deleted
   * while running (`signal.reason` is a `JobCancelledError`), or when the attempt runs past its
   * `timeout` (a `JobTimeoutError`: the attempt has failed with it). Stop when it fires: a handler
   * that runs on keeps its worker's slot until it settles, although its job has moved on.
   */
  readonly signal: AbortSignal;
  /** Record progress (for example a percentage), readable through `client.getJob()`. */
  reportProgress(value: number, message?: string): Promise<void>;
}
