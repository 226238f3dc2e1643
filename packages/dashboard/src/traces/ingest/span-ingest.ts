import { StoreClosedError, type Logger } from 'pilotlight';
import { TRACE_LIMITS } from '../../config/defaults.ts';
import type { SpanRecord } from '../../spans/model.ts';
import type { TraceStore } from '../../spans/trace-store.ts';
import { applyRetention, repeatEvery, type RetentionRule } from './retention.ts';

/**
 * The path from the OTLP receiver to the trace store: every received span is written by one serial
 * writer, which also runs retention, so a prune and a write never run at once.
 */
export interface SpanIngest {
  /**
   * Resolves `'stored'` once `spans` are durable in the trace store (only then may the request be
   * acknowledged), or `'busy'` at once, keeping nothing, when taking them would put more than
   * `maxPendingSpans` spans in memory (the receiver answers 429: the exporter retries later).
   * Rejects with the store's error when the write failed (503: the exporter retries), and with
   * `StoreClosedError` after `close()`.
   */
  submit(spans: readonly SpanRecord[]): Promise<'stored' | 'busy'>;
  /** Writes what was submitted, then refuses new spans; stops retention. Idempotent. */
  close(): Promise<void>;
}

/** The fixed limits the ingest applies; tests give smaller ones. */
export type IngestLimits = { readonly [Limit in 'maxPendingSpans' | 'maxWriteBatchSpans' | 'pruneIntervalMs']: number };

export interface SpanIngestOptions {
  readonly store: TraceStore;
  readonly retention: RetentionRule;
  readonly logger: Logger;
  /** @default TRACE_LIMITS */
  readonly limits?: IngestLimits;
}

/** The spans of one request, or a slice of them: at most `maxWriteBatchSpans`. */
interface Chunk {
  readonly spans: readonly SpanRecord[];
  readonly request: Submission;
}

/** One `submit()` waiting for all of its chunks to be written. */
interface Submission {
  chunksLeft: number;
  failure: { readonly error: unknown } | undefined;
  readonly resolve: (result: 'stored') => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Starts the ingest: the first prune is queued at once (a dashboard started after a long pause
 * deletes what expired meanwhile), then one every `pruneIntervalMs`.
 *
 * Group commit: while a write runs, the requests arriving wait; the next transaction takes all of
 * them (up to `maxWriteBatchSpans` spans), so a burst of small exports costs a few commits, not one
 * each, and an idle receiver writes a request at once, with no delay added.
 */
export function createSpanIngest(options: SpanIngestOptions): SpanIngest {
  const { store, retention, logger, limits = TRACE_LIMITS } = options;
  const waiting: Chunk[] = [];
  /** Spans submitted and not yet written (waiting, or in the write under way). */
  let pending = 0;
  let pruneDue = true;
  let closed = false;
  /** A write failed and no write has succeeded since: the failure was logged once for the whole burst. */
  let failing = false;
  let running: Promise<void> | undefined;

  const stopRetention = repeatEvery(limits.pruneIntervalMs, () => {
    pruneDue = true;
    kick();
  });
  kick(); // the start-up prune

  function kick(): void {
    running ??= drain().finally(() => {
      running = undefined;
      // A submit that came after the loop's last check but before `running` was cleared.
      if (waiting.length > 0 || (pruneDue && !closed)) kick();
    });
  }

  async function drain(): Promise<void> {
    while (waiting.length > 0 || (pruneDue && !closed)) {
      if (pruneDue && !closed) {
        pruneDue = false;
        await applyRetention(store, retention, logger);
        continue;
      }
      await writeNext();
    }
  }

  async function writeNext(): Promise<void> {
    const batch = takeBatch(waiting, limits.maxWriteBatchSpans);
    let failures = [await write(batch.flatMap((chunk) => chunk.spans))];
    if (failures[0] && batch.length > 1) {
      // The spans of one request may be what the store refuses: written each alone, only those fail
      // (503, and their exporter gives up after its retries); the others of the batch are kept.
      failures = [];
      for (const chunk of batch) failures.push(await write(chunk.spans));
    }
    pending -= batch.reduce((sum, chunk) => sum + chunk.spans.length, 0);
    noteOutcome(failures.find((failure) => failure !== undefined));
    batch.forEach(({ request }, i) => {
      request.failure ??= failures.length === 1 ? failures[0] : failures[i];
      request.chunksLeft -= 1;
      if (request.chunksLeft > 0) return;
      if (request.failure) request.reject(request.failure.error);
      else request.resolve('stored');
    });
  }

  async function write(spans: readonly SpanRecord[]): Promise<{ readonly error: unknown } | undefined> {
    try {
      await store.write(spans);
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  function noteOutcome(failure: { readonly error: unknown } | undefined): void {
    if (failure && !failing) {
      logger.error(
        'dashboard: writing received spans to the trace store failed; OTLP exports are answered 503 (the exporters retry) until a write succeeds',
        { error: failure.error },
      );
    } else if (!failure && failing) {
      logger.info('dashboard: the trace store takes spans again');
    }
    failing = failure !== undefined;
  }

  return {
    submit(spans) {
      if (closed) return Promise.reject(new StoreClosedError('The dashboard is closed: it receives no more spans.'));
      if (spans.length === 0) return Promise.resolve('stored');
      // A request larger than the bound on its own is taken when nothing else is pending, or it
      // would be refused forever (its size is bounded by the body limits already).
      if (pending > 0 && pending + spans.length > limits.maxPendingSpans) return Promise.resolve('busy');
      pending += spans.length;
      return new Promise((resolve, reject) => {
        const request: Submission = { chunksLeft: 0, failure: undefined, resolve, reject };
        for (let start = 0; start < spans.length; start += limits.maxWriteBatchSpans) {
          waiting.push({ spans: spans.slice(start, start + limits.maxWriteBatchSpans), request });
          request.chunksLeft += 1;
        }
        kick();
      });
    },
    async close() {
      closed = true;
      pruneDue = false;
      stopRetention();
      while (running) await running;
    },
  };
}

/** The chunks at the head of the queue, as many as fit in `maxSpans` (always one at least), removed from it. */
function takeBatch(waiting: Chunk[], maxSpans: number): Chunk[] {
  let count = 0;
  let size = 0;
  while (count < waiting.length && (count === 0 || size + waiting[count]!.spans.length <= maxSpans)) {
    size += waiting[count]!.spans.length;
    count += 1;
  }
  return waiting.splice(0, count);
}
