/** Base class of the errors Pilotlight throws, so callers can tell them apart. */
export class PilotlightError extends Error {
  override name = 'PilotlightError';
}

/** Bad input to a public API. Nothing was written. The message names the option and the value received. */
export class ValidationError extends PilotlightError {
  override name = 'ValidationError';
}

/** The job (or continuation parent, or recurring job) does not exist. */
export class JobNotFoundError extends PilotlightError {
  override name = 'JobNotFoundError';
  readonly jobId: string;
  constructor(jobId: string, message = `Job ${jobId} does not exist`) {
    super(message);
    this.jobId = jobId;
  }
}

/**
 * Throw it from a job to fail the job at once, without retrying: retrying cannot help
 * (bad input, a resource that is gone for good).
 */
export class UnrecoverableError extends Error {
  override name = 'UnrecoverableError';
}

/** The reason given to a job's `AbortSignal` when its attempt is cancelled. */
export class JobCancelledError extends PilotlightError {
  override name = 'JobCancelledError';
  /** Why: the worker is stopping, or the job was deleted or taken from this worker while running. */
  readonly code: 'shutdown' | 'deleted' | 'lost';
  constructor(code: JobCancelledError['code'], message: string) {
    super(message);
    this.code = code;
  }
}
