import { ValidationError } from 'pilotlight';
import type { Attributes, SpanEvent, SpanKind, SpanLink, SpanRecord, SpanStatusCode } from '../../spans/model.ts';
import type { SpanKey } from './cursor.ts';
import type { SqlDialect } from './dialect.ts';

/**
 * How a `SpanRecord` is laid out in both stores' `trace_spans` rows, and back: the columns written
 * (in this order), the columns read, and the conversions. Kind and status are stored by name
 * (`'server'`, `'error'`), readable in SQL; `duration_us` is `end_us - start_us`, for its index.
 */
export const SPAN_WRITE_COLUMNS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'kind',
  'status_code',
  'status_message',
  'start_us',
  'end_us',
  'duration_us',
  'service',
  'resource_id',
  'scope_name',
  'scope_version',
  'attributes',
  'events',
  'links',
] as const;

/** `ON CONFLICT (trace_id, span_id) DO UPDATE SET …`: an exporter's retry replaces the span (its sequence stays). */
export const REPLACE_SPAN = `ON CONFLICT (trace_id, span_id) DO UPDATE SET ${SPAN_WRITE_COLUMNS.slice(2)
  .map((column) => `${column} = excluded.${column}`)
  .join(', ')}`;

/**
 * The values of `SPAN_WRITE_COLUMNS` for `span`, its resource's row `resourceId`; `json` encodes
 * attributes, events and links as the store binds them. Absent optional fields are NULL.
 */
export function spanValues(span: SpanRecord, service: string, resourceId: number, json: (value: unknown) => unknown): unknown[] {
  return [
    span.traceId,
    span.spanId,
    span.parentSpanId ?? null,
    span.name,
    span.kind,
    span.status.code,
    span.status.message || null,
    span.startUs,
    span.endUs,
    span.endUs - span.startUs,
    service,
    resourceId,
    span.scope.name,
    span.scope.version ?? null,
    json(span.attributes),
    json(span.events),
    json(span.links),
  ];
}

/** The columns `spanFromRow()` reads, from spans `s` joined to their resource `r`. */
export const SPAN_READ_COLUMNS =
  's.seq, s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.status_code, s.status_message, s.start_us, s.end_us, ' +
  's.scope_name, s.scope_version, s.attributes, s.events, s.links, r.attributes AS resource';

/** The FROM clause of every read of spans. */
export function spansWithResources(dialect: SqlDialect): string {
  return `${dialect.spans} AS s JOIN ${dialect.resources} AS r ON r.id = s.resource_id`;
}

/** A row of `SPAN_READ_COLUMNS` (PostgreSQL returns BIGINT columns as strings, hence the `Number()`s). */
export type SpanRow = Readonly<Record<string, unknown>>;

/** The `SpanRecord` of a row, every optional field left out when absent, as the decoder leaves it out. */
export function spanFromRow(row: SpanRow, dialect: SqlDialect): SpanRecord {
  const message = row.status_message as string | null;
  const version = row.scope_version as string | null;
  const parent = row.parent_span_id as string | null;
  return {
    traceId: row.trace_id as string,
    spanId: row.span_id as string,
    ...(parent === null ? {} : { parentSpanId: parent }),
    name: row.name as string,
    kind: row.kind as SpanKind,
    startUs: Number(row.start_us),
    endUs: Number(row.end_us),
    status: message === null ? { code: row.status_code as SpanStatusCode } : { code: row.status_code as SpanStatusCode, message },
    attributes: dialect.readJson(row.attributes) as Attributes,
    events: dialect.readJson(row.events) as SpanEvent[],
    links: dialect.readJson(row.links) as SpanLink[],
    resource: dialect.readJson(row.resource) as Attributes,
    scope: version === null ? { name: row.scope_name as string } : { name: row.scope_name as string, version },
  };
}

/** The paging key of a row. */
export function keyOfRow(row: SpanRow): SpanKey {
  return { startUs: Number(row.start_us), seq: Number(row.seq) };
}

const TEXT_FIELDS = ['traceId', 'spanId', 'name', 'kind'] as const;

/**
 * Checks the shape of what `write()` received (the decoder makes spans; a caller of its own may
 * not), cheaply: a span missing a field would otherwise fail as a database constraint.
 */
export function assertSpans(spans: readonly SpanRecord[]): void {
  if (!Array.isArray(spans)) throw new ValidationError(`TraceStore.write() takes an array of spans; received ${typeof spans}`);
  for (let index = 0; index < spans.length; index++) {
    const span = spans[index]!;
    const bad =
      span === null || typeof span !== 'object'
        ? 'not an object'
        : (TEXT_FIELDS.find((field) => typeof span[field] !== 'string') ??
          (!Number.isSafeInteger(span.startUs) || !Number.isSafeInteger(span.endUs) || span.endUs < span.startUs
            ? 'startUs/endUs'
            : typeof span.status?.code !== 'string'
              ? 'status'
              : typeof span.scope?.name !== 'string'
                ? 'scope'
                : [span.attributes, span.resource].some((value) => value === null || typeof value !== 'object')
                  ? 'attributes/resource'
                  : !Array.isArray(span.events) || !Array.isArray(span.links)
                    ? 'events/links'
                    : undefined));
    if (bad !== undefined) {
      throw new ValidationError(`TraceStore.write() spans[${index}] is not a SpanRecord (${bad}): nothing of this write was kept`);
    }
  }
}
