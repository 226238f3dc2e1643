import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { JobTimeoutError } from '../errors.ts';
import type { ApplyStateContext, CreatedContext, JobFilter, PerformedContext } from '../filters/filter.ts';
import type { StateName } from '../types.ts';
import { toErrorDetails } from '../util/errors.ts';
import { jobInstruments, type JobInstruments } from './instruments.ts';
import { AttemptOutcomes, MetricAttributes as A, type AttemptOutcome } from './metric-names.ts';
import { MESSAGING_SYSTEM, SpanOperations, type SpanOperation } from './names.ts';

/** Queues, and job types per queue, whose attribute sets are kept; past this a cache starts over (both are few by design). */
const MAX_SERIES = 1_000;

/**
 * Job metrics, as a filter on the public filter API beside tracing: jobs created
 * (`messaging.client.sent.messages`), attempts started (`messaging.client.consumed.messages`), their
 * wait in the queue (`pilotlight.queue.wait`), duration (`messaging.process.duration`) and outcome
 * (`pilotlight.job.attempts`). Uses `@opentelemetry/api` only; each recording reuses attribute
 * sets made once per queue and job type, so a job costs a few map reads and additions; without a
 * registered `MeterProvider` (the API's no-op meter) each hook returns at once.
 */
export class MetricsFilter implements JobFilter {
  /**
   * Below tracing (-1000): `onStateApplied(Processing)` runs before every other filter's and
   * `onPerformed` after (it runs in reverse order), so an attempt's duration covers the handler and
   * every filter, and its outcome is read from the final state the attempt was given.
   */
  readonly order = -1_100;
  readonly #provider: MeterProvider | undefined;
  #instruments: JobInstruments | undefined;
  /** By queue, then job type: no key to build per job. */
  readonly #series = new Map<string, Map<string, JobSeries>>();

  constructor(provider: MeterProvider | undefined) {
    this.#provider = provider;
  }

  onCreated(context: CreatedContext): void {
    if (!context.created) return; // deduplicated (an unfinished job held the key), or the insert failed
    const instruments = this.#get();
    if (!instruments.recording) return;
    const { job } = context;
    instruments.sentMessages.add(1, this.#seriesOf(job.queue, job.type).sent(creationOperation(job.initialState.name)));
  }

  onStateApplied(context: ApplyStateContext): void {
    if (context.newState.name !== 'Processing') return;
    const instruments = this.#get();
    if (!instruments.recording) return;
    const { job } = context;
    const series = this.#seriesOf(job.queue, job.type);
    instruments.consumedMessages.add(1, series.process);
    // Claimed at stateChangedAt; due at runAt (a job claimed the moment it is due waits 0).
    instruments.queueWait.record(Math.max(0, job.stateChangedAt.getTime() - job.runAt.getTime()) / 1000, series.wait);
  }

  onPerformed(context: PerformedContext): void {
    const instruments = this.#get();
    if (!instruments.recording) return;
    const { job } = context;
    const series = this.#seriesOf(job.queue, job.type);
    // From the Processing state (the claim), as the attempt's span.
    const seconds = Math.max(0, Date.now() - job.stateChangedAt.getTime()) / 1000;
    const outcome = outcomeOf(context);
    if (outcome === AttemptOutcomes.succeeded) {
      instruments.processDuration.record(seconds, series.process);
      instruments.attemptOutcomes.add(1, series.outcome(outcome));
      return;
    }
    const errorType = outcome === AttemptOutcomes.cancelled ? 'cancelled' : toErrorDetails(context.error).type;
    instruments.processDuration.record(seconds, { ...series.process, [A.errorType]: errorType });
    instruments.attemptOutcomes.add(1, { ...series.outcome(outcome), [A.errorType]: errorType });
  }

  /** The instruments, made at the first recording (see `jobInstruments`). */
  #get(): JobInstruments {
    return (this.#instruments ??= jobInstruments(this.#provider));
  }

  #seriesOf(queue: string, type: string): JobSeries {
    let byType = this.#series.get(queue);
    if (byType === undefined) {
      if (this.#series.size >= MAX_SERIES) this.#series.clear();
      this.#series.set(queue, (byType = new Map()));
    }
    let series = byType.get(type);
    if (series === undefined) {
      if (byType.size >= MAX_SERIES) byType.clear();
      byType.set(type, (series = new JobSeries(queue, type)));
    }
    return series;
  }
}

/** The attribute sets of one queue and job type, each made once when first needed. */
class JobSeries {
  readonly process: Attributes;
  readonly wait: Attributes;
  readonly #queue: string;
  readonly #type: string;
  readonly #sent = new Map<SpanOperation, Attributes>();
  readonly #outcomes = new Map<AttemptOutcome, Attributes>();

  constructor(queue: string, type: string) {
    this.#queue = queue;
    this.#type = type;
    this.process = this.#messaging(SpanOperations.process);
    this.wait = { [A.destinationName]: queue, [A.jobType]: type };
  }

  sent(operation: SpanOperation): Attributes {
    let attributes = this.#sent.get(operation);
    if (attributes === undefined) this.#sent.set(operation, (attributes = this.#messaging(operation)));
    return attributes;
  }

  outcome(outcome: AttemptOutcome): Attributes {
    let attributes = this.#outcomes.get(outcome);
    if (attributes === undefined) this.#outcomes.set(outcome, (attributes = { ...this.wait, [A.outcome]: outcome }));
    return attributes;
  }

  #messaging(operation: SpanOperation): Attributes {
    return {
      [A.system]: MESSAGING_SYSTEM,
      [A.operationName]: operation,
      [A.destinationName]: this.#queue,
      [A.jobType]: this.#type,
    };
  }
}

/** The creation operation of a job created in `state`, as its creation span names it. */
function creationOperation(state: string): SpanOperation {
  return state === 'Scheduled' ? SpanOperations.schedule : state === 'Awaiting' ? SpanOperations.continue : SpanOperations.enqueue;
}

/**
 * How an attempt ended. A timeout is `timed_out` whatever followed (a retry, or Failed); an attempt
 * left without a final state of its own (its job deleted or taken from the worker) or handed back
 * at shutdown is `cancelled`; otherwise the final state says: Succeeded, Failed, or a retry
 * (Scheduled) after a failure.
 */
function outcomeOf(context: PerformedContext): AttemptOutcome {
  const { finalState } = context;
  if (context.failed && isTimeout(context.error)) return AttemptOutcomes.timedOut;
  const state: StateName | undefined = finalState?.name;
  if (state === undefined || state === 'Deleted') return AttemptOutcomes.cancelled;
  if (state === 'Succeeded') return AttemptOutcomes.succeeded;
  if (state === 'Failed') return AttemptOutcomes.failed;
  // Enqueued without a retry: handed back by a stopping worker, the attempt given back.
  if (context.cancelled && finalState!.retry !== true) return AttemptOutcomes.cancelled;
  return context.failed ? AttemptOutcomes.retried : AttemptOutcomes.succeeded;
}

/** `instanceof JobTimeoutError`; false for a thrown Proxy whose `getPrototypeOf` trap throws. */
function isTimeout(error: unknown): boolean {
  try {
    return error instanceof JobTimeoutError;
  } catch {
    return false;
  }
}
