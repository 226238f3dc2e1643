import { ValidationError } from 'pilotlight';
import type { TraceStore } from '../spans/trace-store.ts';
import { DEFAULTS } from './defaults.ts';

/** `createDashboard({ traces })`: receive OTLP on `/v1/traces` and show traces next to the jobs. */
export interface DashboardTracesOptions {
  /**
   * Where the received spans are kept: `createSqliteTraceStore({ path })` or
   * `createPostgresTraceStore({ pool })`. The dashboard writes and prunes it but does not close it.
   */
  readonly store: TraceStore;
  /**
   * Spans that started longer ago than this (ms) are deleted.
   * @default 604_800_000 (7 days)
   */
  readonly maxAgeMs?: number;
  /**
   * At most this many spans are kept: the oldest beyond it are deleted.
   * @default 1_000_000
   */
  readonly maxSpans?: number;
  /**
   * A link to open the same trace in another backend (Jaeger, Tempo, Aspire), `{traceId}` replaced by
   * the trace id: `'http://localhost:16686/trace/{traceId}'`.
   * @default undefined: no such link
   */
  readonly externalUrl?: string;
}

/** `traces` after validation, with its defaults applied. */
export interface TracesConfig {
  readonly store: TraceStore;
  readonly maxAgeMs: number;
  readonly maxSpans: number;
  readonly externalUrl: string | undefined;
}

export function resolveTraces(traces: DashboardTracesOptions | undefined): TracesConfig | undefined {
  if (traces === undefined) return undefined;
  if (typeof traces !== 'object' || traces === null || typeof traces.store?.write !== 'function') {
    throw new ValidationError(
      "createDashboard() options.traces must be { store } with a TraceStore (createSqliteTraceStore({ path: 'traces.db' })), or left out",
    );
  }
  return {
    store: traces.store,
    maxAgeMs: traces.maxAgeMs ?? DEFAULTS.traces.maxAgeMs,
    maxSpans: traces.maxSpans ?? DEFAULTS.traces.maxSpans,
    externalUrl: traces.externalUrl,
  };
}
