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
  /** Metadata stored with the job when it was created (read-only). */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Aborted when the worker stops and the job must hand back its work, or when the job is deleted
   * while running. `signal.reason` is a `JobCancelledError`.
   */
  readonly signal: AbortSignal;
  /** Record progress (for example a percentage), readable through `client.getJob()`. */
  reportProgress(value: number, message?: string): Promise<void>;
}
