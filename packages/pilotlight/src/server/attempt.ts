import { JobCancelledError, JobTimeoutError, UnrecoverableError, ValidationError } from '../errors.ts';
import type { FilterPipeline } from '../filters/filter-pipeline.ts';
import type { JobContext } from '../jobs/job-context.ts';
import type { StateMachine } from '../states/state-machine.ts';
import type { Store, Transition } from '../storage/store.ts';
import type { JobRecord, StateInput, StateRecord } from '../types.ts';
import { toErrorDetails } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { serializeResult } from '../validation/args.ts';
import { describe } from '../validation/validate.ts';
import { AttemptTimeouts } from './attempt-timeouts.ts';
import { handBackAtShutdown } from './hand-back.ts';
import type { JobRegistry } from './job-registry.ts';

/** What an attempt needs from its worker. */
export interface AttemptDeps {
  readonly store: Store;
  readonly states: StateMachine;
  readonly pipeline: FilterPipeline;
  readonly registry: JobRegistry;
  readonly timeouts: AttemptTimeouts;
  readonly serverName: string;
  readonly logger: Logger;
  /** Commits an attempt's final state (batched with the worker's next claim). */
  readonly commit: (transition: Transition) => Promise<JobRecord | undefined>;
}

/** A job this worker is running. */
export class RunningAttempt {
  readonly job: JobRecord;
  readonly controller = new AbortController();
  /** Set once the attempt has a slot and runs (a prefetched job waits for one first). */
  started = false;
  /** Set once the handler is done and the attempt is recording its outcome. */
  get finishing(): boolean {
    return this.#finishing;
  }
  set finishing(value: true) {
    this.#finishing = value;
    this.#freeSlotIfDone();
  }
  #finishing = false;
  /** Settles when the attempt is over, its final state applied and `onPerformed` run. */
  done: Promise<void> = Promise.resolve();
  /** Whether the handler was started and has not settled yet. */
  get handlerRunning(): boolean {
    return this.#handlerRunning;
  }
  #handlerRunning = false;
  /** When the signal aborted (`Date.now()`), if it did. */
  abortedAt: number | undefined;
  /** Rejects the attempt's `watch()` promise on an abort that ends the attempt. */
  #onAbort: ((reason: unknown) => void) | undefined;
  /** Frees the attempt's slot (see `takeSlot()`); cleared once called. */
  #releaseSlot: (() => void) | undefined;
  #runEnded = false;
  /** Made only when asked for (a zombie's): most handlers settle before anyone waits on them. */
  #handlerSettled: Promise<void> | undefined;
  #settleHandler: (() => void) | undefined;

  constructor(job: JobRecord) {
    this.job = job;
  }

  /**
   * Settles when the handler has (it may outlive its attempt: a handler that ignores its signal
   * when it times out or is deleted keeps running), after its slot is freed. Settled if the
   * handler never started.
   */
  get handlerSettled(): Promise<void> {
    if (!this.#handlerRunning) return Promise.resolve();
    this.#handlerSettled ??= new Promise<void>((resolve) => (this.#settleHandler = resolve));
    return this.#handlerSettled;
  }

  cancel(reason: JobCancelledError | JobTimeoutError): void {
    if (this.controller.signal.aborted) return;
    this.abortedAt = Date.now();
    this.controller.abort(reason);
    this.#onAbort?.(reason);
  }

  /**
   * The attempt holds a slot (`release` frees it): it frees up once the handler is done (the
   * outcome may still be being recorded) or the attempt is over, and not before the handler has
   * settled, so that a handler that outlives its attempt keeps its slot until it does.
   */
  takeSlot(release: () => void): void {
    this.#releaseSlot = release;
  }

  /** The attempt (`runAttempt()`) is over, whether or not it got as far as the handler. */
  ended(): void {
    this.#runEnded = true;
    this.#freeSlotIfDone();
  }

  /**
   * Follows the running handler: its outcome or, as soon as the signal aborts for a timeout, a
   * deletion or a loss, that reason: the attempt ends then, whether or not the handler stops (one
   * that ignores its signal runs on, holding its slot, as a zombie). A shutdown waits for the
   * handler: the worker gives it `shutdownTimeout` and hands its job back.
   */
  watch<T>(handler: Promise<T>): Promise<T> {
    this.#handlerRunning = true;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (reason: unknown): void => {
        if (!(reason instanceof JobCancelledError && reason.reason === 'shutdown')) reject(reason);
      };
      const signal = this.controller.signal;
      if (signal.aborted) onAbort(signal.reason);
      else this.#onAbort = onAbort;
      handler.then(
        (value) => {
          this.#handlerEnded();
          resolve(value);
        },
        (error: unknown) => {
          this.#handlerEnded();
          reject(error);
        },
      );
    });
  }

  #handlerEnded(): void {
    this.#handlerRunning = false;
    this.#onAbort = undefined;
    this.#freeSlotIfDone();
    this.#settleHandler?.();
  }

  #freeSlotIfDone(): void {
    if (this.#releaseSlot === undefined || this.#handlerRunning || !(this.#finishing || this.#runEnded)) return;
    const release = this.#releaseSlot;
    this.#releaseSlot = undefined;
    release();
  }
}

/**
 * One execution of a claimed job: Processing filters, `onPerforming`, the handler, the final state
 * (through election, so the retry filter can turn a failure into a retry), `onPerformed`.
 * Never rejects: every failure becomes the job's state.
 */
export async function runAttempt(attempt: RunningAttempt, deps: AttemptDeps): Promise<void> {
  const { job } = attempt;
  const { states, pipeline, serverName, commit } = deps;
  const signal = attempt.controller.signal;
  const items = new Map<unknown, unknown>();
  const base = states.context(items);
  const processing: StateRecord = { name: 'Processing', at: job.stateChangedAt, serverName, attempt: job.attempt };
  await states.applied({ ...base, job, oldState: 'Enqueued', newState: processing });
  const performing = { ...base, job, serverName, signal };
  if (pipeline.has('onPerforming')) await pipeline.run('onPerforming', performing);

  let result: unknown;
  let error: unknown;
  let failed = false;
  const timeout = deps.timeouts.of(job);
  let timer: NodeJS.Timeout | undefined;
  try {
    const invoke = deps.registry.resolve(job);
    const args = parseArgs(job);
    const context = jobContext(job, deps, signal, job.parentId === undefined ? undefined : await parentResult(deps.store, job.parentId));
    const perform = async () => invoke(args, context);
    if (timeout) timer = setTimeout(() => attempt.cancel(AttemptTimeouts.error(job, timeout)), timeout.ms);
    const handler = pipeline.hasWrappers ? (async () => pipeline.wrap(performing, perform))() : perform();
    result = await attempt.watch(handler);
  } catch (thrown) {
    failed = true;
    // Timed out: the timeout is the error, whatever the handler threw on its way out (an AbortError).
    error = signal.aborted && signal.reason instanceof JobTimeoutError ? signal.reason : thrown;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  attempt.finishing = true;

  let finalState: StateRecord | undefined;
  // A timeout aborts the signal too, but it is a failure of the job, not a cancellation.
  const cancelReason = signal.aborted && signal.reason instanceof JobCancelledError ? signal.reason.reason : undefined;
  const cancelled = cancelReason !== undefined;
  if (cancelReason === 'shutdown' && failed) {
    // Stopping worker: hand the job back without spending an attempt (up to a limit).
    const what = `Worker ${serverName} stopped during attempt ${job.attempt}`;
    finalState = (await handBackAtShutdown(job, what, deps, { items, commit }))?.state;
  } else if (cancelReason === undefined || cancelReason === 'shutdown') {
    const details = failed ? toErrorDetails(error) : undefined;
    const stored = failed || result === undefined ? undefined : storedResult(job, result, deps.logger);
    const candidate: StateInput = details
      ? { name: 'Failed', error: details, reason: details.message }
      : { name: 'Succeeded', ...(stored?.reason !== undefined && { reason: stored.reason }) };
    const resultJson = stored?.json;
    finalState = (await states.apply(job, candidate, { items, error, expectServer: serverName, commit, resultJson }))?.state;
  } // deleted or lost: the job is already elsewhere; nothing to record.

  if (pipeline.has('onPerformed')) {
    await pipeline.run('onPerformed', { ...performing, result, error, failed, cancelled, finalState });
  }
}

/**
 * The result to store with a succeeded job, or why none is: a result that cannot be stored does not
 * fail the job (its work is done; failing it would run it, and its side effects, again).
 */
function storedResult(job: JobRecord, result: unknown, logger: Logger): { json?: string; reason?: string } {
  const serialized = serializeResult(result);
  if ('json' in serialized) return { json: serialized.json };
  logger.warn(`Job ${job.id} (${job.type}) succeeded, but its ${serialized.problem}; it is stored without a result`);
  return { reason: `Result not stored: ${serialized.problem}` };
}

/** A continuation's parent's result, parsed (undefined for none, or a parent gone). */
async function parentResult(store: Store, parentId: string): Promise<unknown> {
  const json = (await store.getJob(parentId))?.resultJson;
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

function parseArgs(job: JobRecord): unknown[] {
  let args: unknown;
  try {
    args = JSON.parse(job.argsJson);
  } catch (error) {
    throw new UnrecoverableError(`The arguments of job ${job.id} are not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(args)) throw new UnrecoverableError(`The arguments of job ${job.id} are not a JSON array`);
  return args;
}

function jobContext(job: JobRecord, deps: AttemptDeps, signal: AbortSignal, parentResult: unknown): JobContext {
  return {
    parentResult,
    jobId: job.id,
    type: job.type,
    method: job.method,
    queue: job.queue,
    attempt: job.attempt,
    retryCount: job.retryCount,
    serverName: deps.serverName,
    metadata: job.metadata,
    signal,
    reportProgress(value: number, message?: string) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return Promise.reject(new ValidationError(`reportProgress() value must be a finite number; received ${describe(value)}`));
      }
      return deps.store.setProgress(job.id, job.attempt, message === undefined ? { value } : { value, message: String(message) });
    },
  };
}
