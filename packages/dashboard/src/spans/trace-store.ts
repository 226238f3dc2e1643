import type { SpanRecord } from './model.ts';
import type { SpanCondition } from './conditions.ts';

/**
 * Where the dashboard keeps the spans it receives, for its trace pages. Two implementations:
 * `createSqliteTraceStore()` (a file of its own) and `createPostgresTraceStore()` (tables in the
 * database the jobs live in). The contract suite in `test/traces/store-contract.ts` runs
 * against both.
 *
 * Writes come from one ingestion pipeline at a time (batched: many requests, one transaction);
 * reads from the pages. Every method rejects with `StoreClosedError` after `close()`.
 */
export interface TraceStore {
  /**
   * Writes `spans` in one transaction; resolves once they are durable (an OTLP request is
   * acknowledged only then). A span already stored (same trace id and span id, an exporter's retry)
   * is replaced, never duplicated.
   */
  write(spans: readonly SpanRecord[]): Promise<void>;

  /** The spans of one trace, in start order, at most `limit`; `truncated` when there are more. */
  getTrace(traceId: string, limit: number): Promise<{ readonly spans: readonly SpanRecord[]; readonly truncated: boolean }>;

  /** Spans matching every condition, newest start first, one page at a time. */
  findSpans(query: SpanQuery): Promise<SpanPage>;

  /** Every `service.name` among the stored spans, sorted. */
  listServices(): Promise<readonly string[]>;

  /**
   * Applies retention: deletes spans that started before `olderThanUs`, then the oldest spans beyond
   * the newest `maxSpans`. Deletes in bounded batches (a large backlog does not hold the write lock
   * for long). Resolves with how many spans it deleted.
   */
  prune(retention: { readonly olderThanUs: number; readonly maxSpans: number }): Promise<number>;

  /** How many spans are stored. */
  countSpans(): Promise<number>;

  /** Closes the connection (a store created with a pool of yours leaves the pool open). Idempotent. */
  close(): Promise<void>;
}

export interface SpanQuery {
  /** All must hold. Empty: every span (or every root span, with `rootsOnly`). */
  readonly where: readonly SpanCondition[];
  /** Only spans without a parent: the traces page's default list of recent traces. @default false */
  readonly rootsOnly?: boolean;
  /** A `SpanPage.next` of the same query: the page after it. */
  readonly before?: string;
  /** Spans per page. */
  readonly limit: number;
  /**
   * Conditions on attributes cannot use an index: at most this many spans (newest first, after the
   * indexed conditions) are examined per page, and `next` continues the scan from where it stopped.
   */
  readonly scanLimit: number;
}

export interface SpanPage {
  readonly spans: readonly SpanRecord[];
  /** Pass as `before` for the next page; undefined at the end. */
  readonly next?: string;
  /** The page stopped at `scanLimit` spans examined, before it was full: `next` continues. */
  readonly scanStopped: boolean;
}
