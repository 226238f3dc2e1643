import { consoleLogger, type Logger } from 'pilotlight';

/**
 * Every default and fixed limit of the dashboard in one place. `DashboardOptions` documents the
 * defaults with `@default`; `resolveOptions()` reads them from here, and so does every page and
 * route that applies a limit.
 */
export const DEFAULTS = {
  /** Mounted at the root of the server. */
  basePath: '',
  /** Actions shown and accepted. */
  readOnly: false,
  /** The arguments and results shown as they are stored. */
  redact: (value: unknown): unknown => value,
  /** Warnings and errors to the console, as Pilotlight's clients and workers do. */
  logger: consoleLogger as Logger,
  /** Received spans: kept 7 days, and at most the newest 1,000,000 (`traces.maxAgeMs`, `traces.maxSpans`). */
  traces: {
    maxAgeMs: 7 * 24 * 60 * 60 * 1000,
    maxSpans: 1_000_000,
  },
} as const;

/** Fixed limits no option changes. */
export const LIMITS = {
  /** Jobs per page of the jobs list (and matches per search page). */
  pageSize: 50,
  /** How often the overview asks `/api/overview` for fresh numbers, in ms. */
  pollInterval: 2_000,
  /** Minutes of the overview's succeeded/failed chart, the current one included. */
  chartMinutes: 60,
  /** Jobs read per batch by a bulk action over a filter (`listJobs` with `before`). */
  bulkBatchSize: 500,
  /** Job ids one bulk request may name. */
  maxSelectedIds: 500,
  /** Bytes of a POST body; larger bodies are answered 413. */
  maxBodyBytes: 64 * 1024,
  /** Characters of a job id, recurring id, queue, type or search text in a URL or form. */
  maxParamLength: 200,
  /** `Processing` jobs read to show what each worker is running. */
  maxRunningListed: 1_000,
  /** Characters of a result message carried to the next page. */
  maxFlashLength: 300,
} as const;

/** Fixed limits of the OTLP receiver and the trace pages. */
export const TRACE_LIMITS = {
  /** Bytes of an OTLP request body as sent (compressed or not); larger is answered 413. */
  maxOtlpBodyBytes: 8 * 1024 * 1024,
  /** Bytes of an OTLP request body once decompressed; larger is answered 413 (a gzip bomb stops here). */
  maxOtlpDecodedBytes: 32 * 1024 * 1024,
  /** Spans received but not yet written; a request that would exceed it is answered 429 with `Retry-After`. */
  maxPendingSpans: 100_000,
  /** Spans written per transaction at most (the requests waiting are grouped up to this). */
  maxWriteBatchSpans: 10_000,
  /** Seconds an exporter is told to wait (`Retry-After`) when the receiver is behind (429) or the store failing (503). */
  retryAfterSeconds: 2,
  /** How often retention runs, in ms. */
  pruneIntervalMs: 60_000,
  /** Spans deleted per statement by retention. */
  pruneBatchSpans: 5_000,
  /** Spans a trace's waterfall shows at most. */
  maxTraceSpans: 5_000,
  /** Spans per page of the traces and tasks pages. */
  spanPageSize: 50,
  /** Spans examined per page when a query has attribute conditions (see `SpanQuery.scanLimit`). */
  scanLimit: 100_000,
  /** Characters of a trace query. */
  maxQueryLength: 1_000,
} as const;

/** Names of the cookies the dashboard sets, each scoped to its `basePath`. */
export const COOKIES = {
  /** The CSRF token (double-submit: every form carries the same value in `_csrf`). */
  csrf: 'pilotlight_csrf',
  /** The result of the last action, shown once by the page the action redirects to. */
  flash: 'pilotlight_flash',
} as const;
