import { ValidationError } from 'pilotlight';
import type { TraceStore } from '../spans/trace-store.ts';
import { DEFAULTS } from './defaults.ts';
import { describeValue } from './describe-value.ts';

/**
 * `createDashboard({ traces })`: receive OTLP/HTTP on `{basePath}/v1/traces` and show traces next to
 * the jobs. The receiver takes spans under the same access rule as the pages (`authorize`, or local
 * requests only); read-only access may send spans too, since spans change no job.
 */
export interface DashboardTracesOptions {
  /**
   * Where the received spans are kept: `createSqliteTraceStore({ path })` or
   * `createPostgresTraceStore({ pool })`. The dashboard writes and prunes it but does not close it:
   * close it after `dashboard.close()`.
   */
  readonly store: TraceStore;
  /**
   * Spans that started longer ago than this (ms) are deleted: at start-up, then every minute.
   * @default 604_800_000 (7 days)
   */
  readonly maxAgeMs?: number;
  /**
   * At most this many spans are kept: the oldest beyond it are deleted (at start-up, then every minute).
   * @default 1_000_000
   */
  readonly maxSpans?: number;
  /**
   * A link to open the same trace in another backend (Jaeger, Tempo, Aspire): an `http://` or
   * `https://` URL in which `{traceId}` is replaced by the trace id, `'http://localhost:16686/trace/{traceId}'`.
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

const OPTION_NAMES: ReadonlySet<string> = new Set(['store', 'maxAgeMs', 'maxSpans', 'externalUrl']);
/** What makes an object a `TraceStore`, as far as can be checked without calling it. */
const STORE_METHODS = ['write', 'getTrace', 'findSpans', 'listServices', 'prune', 'countSpans', 'close'] as const;
const PLACEHOLDER = '{traceId}';

export function resolveTraces(traces: DashboardTracesOptions | undefined): TracesConfig | undefined {
  if (traces === undefined) return undefined;
  if (typeof traces !== 'object' || traces === null || Array.isArray(traces)) {
    throw new ValidationError(
      `createDashboard() options.traces must be an object, { store: createSqliteTraceStore({ path: 'traces.db' }) }, or left out; received ${describeValue(traces)}`,
    );
  }
  const unknown = Object.keys(traces).filter((key) => !OPTION_NAMES.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `createDashboard() options.traces has no option ${unknown.map((key) => `'${key}'`).join(', ')}: its options are ${[...OPTION_NAMES].join(', ')}`,
    );
  }
  return {
    store: resolveStore(traces.store),
    maxAgeMs: positiveInteger(traces.maxAgeMs, 'maxAgeMs', 'ms', DEFAULTS.traces.maxAgeMs),
    maxSpans: positiveInteger(traces.maxSpans, 'maxSpans', 'spans', DEFAULTS.traces.maxSpans),
    externalUrl: resolveExternalUrl(traces.externalUrl),
  };
}

function resolveStore(store: unknown): TraceStore {
  const missing =
    typeof store === 'object' && store !== null
      ? STORE_METHODS.filter((method) => typeof (store as Record<string, unknown>)[method] !== 'function')
      : STORE_METHODS;
  if (missing.length > 0) {
    const lacking = typeof store === 'object' && store !== null ? ` (it has no ${missing.join(', ')})` : '';
    throw new ValidationError(
      `createDashboard() options.traces.store must be a TraceStore: createSqliteTraceStore({ path: 'traces.db' }) or createPostgresTraceStore({ pool }); received ${describeValue(store)}${lacking}`,
    );
  }
  return store as TraceStore;
}

function positiveInteger(value: unknown, option: string, unit: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(
      `createDashboard() options.traces.${option} must be a positive integer (${unit}); received ${describeValue(value)}: pass a whole number from 1, or leave it out for ${fallback}`,
    );
  }
  return value;
}

function resolveExternalUrl(externalUrl: unknown): string | undefined {
  if (externalUrl === undefined) return undefined;
  const invalid = (rule: string) =>
    new ValidationError(
      `createDashboard() options.traces.externalUrl must be ${rule}; received ${describeValue(externalUrl)}: pass a URL such as 'http://localhost:16686/trace/${PLACEHOLDER}', or leave it out`,
    );
  if (typeof externalUrl !== 'string') throw invalid(`a string`);
  if (!externalUrl.includes(PLACEHOLDER)) throw invalid(`a URL containing ${PLACEHOLDER}, which is replaced by the trace id`);
  let protocol: string;
  try {
    protocol = new URL(externalUrl.replaceAll(PLACEHOLDER, '0')).protocol;
  } catch {
    throw invalid('a valid URL');
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw invalid('an http:// or https:// URL');
  return externalUrl;
}
