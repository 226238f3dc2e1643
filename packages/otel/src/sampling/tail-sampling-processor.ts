/**
 * Tail sampling of job attempts inside the process: an attempt's spans are held until the attempt
 * ends, then exported whole if it failed or was slow, and at a ratio otherwise. A head sampler
 * decides before the attempt runs and cannot know it will fail; tail sampling usually takes an
 * OpenTelemetry Collector (its `tail_sampling` processor) that receives whole traces first.
 */
import { diag, ROOT_CONTEXT, SpanStatusCode, type Context } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { SamplingDecision, TraceIdRatioBasedSampler, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { isAttemptSpan } from './job-span-attributes.ts';
import { resolveTailSamplingOptions, type ResolvedTailSamplingOptions, type TailSamplingOptions } from './tail-sampling-options.ts';

/** One attempt being followed: its span and every local span started under it. */
interface Attempt {
  readonly spanId: string;
  /** Its spans that ended before the attempt span, held until the decision, in the order they ended. */
  held: ReadableSpan[];
  decision: 'undecided' | 'keep' | 'drop';
}

/**
 * A `SpanProcessor` in front of another (the `BatchSpanProcessor` of an exporter) that holds the
 * spans of each job attempt until the attempt ends, then passes them all on if the attempt
 * - ended with status ERROR (it failed, was cancelled or timed out), or
 * - ran longer than `slowerThanMs`,
 * and otherwise passes them on for a share `ratio` of attempts, decided on the trace id as the
 * SDK's `TraceIdRatioBasedSampler` does (a trace kept by a head ratio h is kept by the tail ratio t
 * when t ≥ h: the two decisions nest).
 *
 * An attempt is the CONSUMER span of Pilotlight's job tracer (`messaging.system` = `pilotlight`,
 * `messaging.operation.type` = `process`); its spans are every span started in this process under
 * it, at any depth. A span that ends after its attempt (a handler that outlives its attempt's
 * timeout) follows the attempt's decision. Every other span passes straight through. `onStart`
 * reaches the next processor at once.
 *
 * The processor only sees recorded spans: sample job attempts in full at the head (the SDK's
 * default parent-based always-on sampler, or a job sampler with ratio 1 for the job types this
 * processor is meant for).
 *
 * Memory: at most `maxBufferedSpans` ended spans are held across all open attempts. When one more
 * would be held, the oldest open attempt's held spans are passed on without waiting for its outcome
 * (as if kept), and its remaining spans pass straight through: an overflow exports more than the
 * ratio asks, and never loses a failure. `diag.warn` says so once per streak of overflows.
 *
 * `forceFlush()` flushes the next processor and keeps holding the spans of attempts still running
 * (they are decided when the attempt ends). `shutdown()` passes on the held spans of attempts still
 * running (their outcome will never be known), then shuts the next processor down.
 */
export class JobTailSamplingProcessor implements SpanProcessor {
  readonly #next: SpanProcessor;
  readonly #options: ResolvedTailSamplingOptions;
  readonly #ratio: TraceIdRatioBasedSampler;
  /**
   * Span id → its attempt: every span of an undecided attempt (ended ones too, so that a span
   * started under an ended sibling's subtree is found), only the open ones once the attempt is decided.
   */
  readonly #attempts = new Map<string, Attempt>();
  /** Undecided attempts, oldest first: the order overflows pass them on. */
  readonly #undecided = new Set<Attempt>();
  #held = 0;
  #overflowing = false;
  #stopped = false;

  constructor(next: SpanProcessor, options: TailSamplingOptions = {}) {
    if (next === null || typeof next !== 'object' || typeof next.onEnd !== 'function') {
      throw new TypeError(`JobTailSamplingProcessor next must be a SpanProcessor (a BatchSpanProcessor...); received ${String(next)}`);
    }
    this.#next = next;
    this.#options = resolveTailSamplingOptions(options, 'JobTailSamplingProcessor options');
    this.#ratio = new TraceIdRatioBasedSampler(this.#options.ratio);
  }

  /** Ended spans held now, waiting for their attempt's outcome. Never above `maxBufferedSpans`. */
  get bufferedSpans(): number {
    return this.#held;
  }

  /** Spans this processor follows now: those of undecided attempts, and the open spans of decided ones. */
  get trackedSpans(): number {
    return this.#attempts.size;
  }

  onStart(span: Span, parentContext: Context): void {
    this.#next.onStart(span, parentContext);
    if (this.#stopped) return;
    const spanId = span.spanContext().spanId;
    if (isAttemptSpan(span.attributes)) {
      const attempt: Attempt = { spanId, held: [], decision: 'undecided' };
      this.#attempts.set(spanId, attempt);
      this.#undecided.add(attempt);
      return;
    }
    const parent = span.parentSpanContext;
    // A remote parent is another process's span (or a job's stored creation context): not under a local attempt.
    const attempt = parent && !parent.isRemote ? this.#attempts.get(parent.spanId) : undefined;
    if (attempt) this.#attempts.set(spanId, attempt);
  }

  onEnding(span: Span): void {
    this.#next.onEnding?.(span);
  }

  onEnd(span: ReadableSpan): void {
    const spanId = span.spanContext().spanId;
    const attempt = this.#attempts.get(spanId);
    if (!attempt) {
      this.#next.onEnd(span);
      return;
    }
    if (attempt.decision === 'undecided') {
      if (spanId === attempt.spanId) {
        this.#attempts.delete(spanId);
        const decision = this.#keeps(span) ? 'keep' : 'drop';
        this.#settle(attempt, decision);
        if (decision === 'keep') this.#next.onEnd(span);
        if (this.#overflowing && this.#held <= this.#options.maxBufferedSpans / 2) this.#overflowing = false;
        return;
      }
      this.#makeRoom();
      // Making room may have passed this very attempt on.
      if (attempt.decision === 'undecided') {
        attempt.held.push(span);
        this.#held++;
        return;
      }
    }
    this.#attempts.delete(spanId);
    if (attempt.decision === 'keep') this.#next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#next.forceFlush();
  }

  async shutdown(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      for (const attempt of this.#undecided) this.#settle(attempt, 'keep');
      this.#attempts.clear();
    }
    await this.#next.shutdown();
  }

  #keeps(attempt: ReadableSpan): boolean {
    if (attempt.status.code === SpanStatusCode.ERROR) return true;
    if (hrTimeToMilliseconds(attempt.duration) > this.#options.slowerThanMs) return true;
    return this.#ratio.shouldSample(ROOT_CONTEXT, attempt.spanContext().traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
  }

  /** Decides `attempt`: its held spans are passed on (`keep`) or dropped, and forgotten. */
  #settle(attempt: Attempt, decision: 'keep' | 'drop'): void {
    attempt.decision = decision;
    this.#undecided.delete(attempt);
    this.#held -= attempt.held.length;
    for (const span of attempt.held) {
      this.#attempts.delete(span.spanContext().spanId);
      if (decision === 'keep') this.#next.onEnd(span);
    }
    attempt.held = [];
  }

  /** Passes on the oldest attempts holding spans until one more span can be held. */
  #makeRoom(): void {
    const limit = this.#options.maxBufferedSpans;
    for (const attempt of this.#undecided) {
      if (this.#held < limit) return;
      if (attempt.held.length === 0) continue; // passing it on would free nothing
      if (!this.#overflowing) {
        this.#overflowing = true;
        diag.warn(
          `@pilotlight/otel: JobTailSamplingProcessor holds its limit of ${limit} spans (maxBufferedSpans): ` +
            `the spans of the oldest running attempts are exported without waiting for their outcome. ` +
            'Raise maxBufferedSpans, or sample these jobs at the head.',
        );
      }
      this.#settle(attempt, 'keep');
    }
  }
}
