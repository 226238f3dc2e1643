/**
 * `@pilotlight/dashboard`: Pilotlight's dashboard, mounted in an application (`createDashboard`)
 * or run on its own (`npx pilotlight dashboard`), with an OpenTelemetry trace receiver
 * (OTLP/HTTP on `{basePath}/v1/traces`) and its trace stores.
 */

// The dashboard.
export { createDashboard } from './http/dashboard.ts';
export type { DashboardHandler } from './http/dashboard.ts';
export type { DashboardAccess, DashboardOptions, RedactedPart } from './config/options.ts';

// Receiving traces: `createDashboard({ traces: { store } })`.
export type { DashboardTracesOptions } from './config/traces-options.ts';
export { createSqliteTraceStore } from './traces/store/sqlite/create-sqlite-trace-store.ts';
export type { SqliteTraceStoreOptions } from './traces/store/sqlite/create-sqlite-trace-store.ts';
export { createPostgresTraceStore } from './traces/store/postgres/create-postgres-trace-store.ts';
export type { PostgresTraceStoreOptions } from './traces/store/postgres/create-postgres-trace-store.ts';
export { OtlpDecodeError } from './traces/otlp/otlp-decode-error.ts';

// For trace store authors: the interface every trace store implements, and the span model it keeps.
export type { TraceStore, SpanQuery, SpanPage } from './spans/trace-store.ts';
export type {
  AttributeValue,
  Attributes,
  InstrumentationScope,
  SpanEvent,
  SpanKind,
  SpanLink,
  SpanRecord,
  SpanStatus,
  SpanStatusCode,
} from './spans/model.ts';
export type {
  AttributeCondition,
  Comparison,
  DurationCondition,
  KindCondition,
  NameCondition,
  ServiceCondition,
  SpanCondition,
  StatusCondition,
  TextComparison,
  TraceCondition,
} from './spans/conditions.ts';
