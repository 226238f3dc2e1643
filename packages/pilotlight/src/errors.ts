/**
 * The code of every error Pilotlight throws: stable strings to test in a `catch` (`error.code ===
 * ErrorCodes.STORE_CLOSED`), in logs and in alerts, where messages may be reworded from one
 * release to the next.
 */
export const ErrorCodes = {
  /** Bad input to a public API (`ValidationError`). */
  VALIDATION: 'VALIDATION',
  /** No such job, continuation parent or recurring job (`JobNotFoundError`). */
  JOB_NOT_FOUND: 'JOB_NOT_FOUND',
  /** Thrown by a job to fail it at once, without retrying (`UnrecoverableError`). */
  UNRECOVERABLE: 'UNRECOVERABLE',
  /** The reason of an aborted job's signal (`JobCancelledError`). */
  JOB_CANCELLED: 'JOB_CANCELLED',
  /** An attempt ran past its job's `timeout`: the reason of its signal and the error it fails with (`JobTimeoutError`). */
  JOB_TIMEOUT: 'JOB_TIMEOUT',
  /** A worker was asked to run a job whose type or method it does not know (`JobNotRegisteredError`). */
  JOB_NOT_REGISTERED: 'JOB_NOT_REGISTERED',
  /** `start()` of a worker that is not idle: running, stopping or stopped. */
  WORKER_NOT_IDLE: 'WORKER_NOT_IDLE',
  /** A recurring job's cron expression has no occurrence after a given time. */
  NO_NEXT_OCCURRENCE: 'NO_NEXT_OCCURRENCE',
  /** A call to a store after its `close()` (`StoreClosedError`). */
  STORE_CLOSED: 'STORE_CLOSED',
  /**
   * The store's database or disk is full (SQLite's `SQLITE_FULL`, `StoreFullError`): the write was
   * undone; writes succeed again once space is freed, and workers keep retrying their outcomes.
   */
  STORE_FULL: 'STORE_FULL',
  /** The database was written by a newer Pilotlight, whose schema this one does not know. */
  SCHEMA_TOO_NEW: 'SCHEMA_TOO_NEW',
  /** A job's dedup key was neither free nor held by a job the store could find, after retries. */
  DEDUP_CONFLICT: 'DEDUP_CONFLICT',
  /** `continueWhenAll(ids)` of a job that already belongs to a batch (a job is a member of one batch at most). */
  BATCH_CONFLICT: 'BATCH_CONFLICT',
  /** The Node.js release lacks what the store needs (for the SQLite store, `node:sqlite`). */
  UNSUPPORTED_RUNTIME: 'UNSUPPORTED_RUNTIME',
  /** A task failed with a thrown value that is not an Error: the error wraps it as its `cause`. */
  NON_ERROR_THROWN: 'NON_ERROR_THROWN',
  /** The reason of a cancelled task's signal, and the rejection of its `result` (`TaskCancelledError`). */
  TASK_CANCELLED: 'TASK_CANCELLED',
  /** `start()` of a task after `shutdown()` (`TaskManagerStoppedError`). */
  TASK_MANAGER_STOPPED: 'TASK_MANAGER_STOPPED',
  /** An OpenTelemetry (OTLP) request body that is not a valid export request: the dashboard's receiver answers 400 and keeps nothing of it. */
  OTLP_INVALID: 'OTLP_INVALID',
} as const;

export type PilotlightErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Base class of every error Pilotlight throws: tell them apart by `code`. Conditions a caller
 * handles, or that carry data, have a subclass of their own; the others are a `PilotlightError`
 * with their code.
 */
export class PilotlightError extends Error {
  override name = 'PilotlightError';
  readonly code: PilotlightErrorCode;
  constructor(code: PilotlightErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Bad input to a public API. Nothing was written. The message names the option and the value received. */
export class ValidationError extends PilotlightError {
  override name = 'ValidationError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.VALIDATION, message, options);
  }
}

/** The job (or continuation parent, or recurring job) does not exist. */
export class JobNotFoundError extends PilotlightError {
  override name = 'JobNotFoundError';
  readonly jobId: string;
  constructor(jobId: string, message = `Job ${jobId} does not exist`) {
    super(ErrorCodes.JOB_NOT_FOUND, message);
    this.jobId = jobId;
  }
}

/**
 * Throw it from a job to fail the job at once, without retrying: retrying cannot help
 * (bad input, a resource that is gone for good).
 */
export class UnrecoverableError extends PilotlightError {
  override name = 'UnrecoverableError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.UNRECOVERABLE, message, options);
  }
}

/** Why a job's attempt was cancelled: the worker is stopping, or the job was deleted or taken from this worker while running. */
export type JobCancelReason = 'shutdown' | 'deleted' | 'lost';

/** The reason given to a job's `AbortSignal` when its attempt is cancelled. */
export class JobCancelledError extends PilotlightError {
  override name = 'JobCancelledError';
  readonly reason: JobCancelReason;
  constructor(reason: JobCancelReason, message: string) {
    super(ErrorCodes.JOB_CANCELLED, message);
    this.reason = reason;
  }
}

/**
 * An attempt ran longer than its job's `timeout`: the job's `AbortSignal` fires with it as its
 * reason, and the attempt fails with it (retried under the job's retry policy like any failure),
 * whether or not the handler stops. Not a `JobCancelledError`: a timeout is a failure of the job.
 */
export class JobTimeoutError extends PilotlightError {
  override name = 'JobTimeoutError';
  readonly jobId: string;
  /** The timeout that passed, in ms. */
  readonly timeout: number;
  constructor(jobId: string, timeout: number, message: string) {
    super(ErrorCodes.JOB_TIMEOUT, message);
    this.jobId = jobId;
    this.timeout = timeout;
  }
}

/**
 * A worker claimed a job whose type (or, for a job class, method) is not among its `options.jobs`:
 * the attempt fails with this error and is retried like any failure, since another worker (or the
 * next deployment) may know the job.
 */
export class JobNotRegisteredError extends PilotlightError {
  override name = 'JobNotRegisteredError';
  readonly type: string;
  /** Method of a class-based job; empty for a function job. */
  readonly method: string;
  constructor(type: string, method: string, message: string) {
    super(ErrorCodes.JOB_NOT_REGISTERED, message);
    this.type = type;
    this.method = method;
  }
}

/** A store was used after its `close()`. Every Pilotlight store throws it, and so should a store of your own. */
export class StoreClosedError extends PilotlightError {
  override name = 'StoreClosedError';
  constructor(message: string) {
    super(ErrorCodes.STORE_CLOSED, message);
  }
}

/**
 * A write failed because the store's database or disk is full; its `cause` is the database's own
 * error. Nothing of the write was kept. It is not permanent: once space is freed, writes succeed
 * again (workers retry the outcomes of finished jobs meanwhile, as through a database outage).
 */
export class StoreFullError extends PilotlightError {
  override name = 'StoreFullError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.STORE_FULL, message, options);
  }
}
