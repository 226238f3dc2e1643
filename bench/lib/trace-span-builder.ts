import { createHash } from 'node:crypto';
import type { Attributes, SpanEvent, SpanKind, SpanRecord } from '../../packages/dashboard/src/index.ts';

/**
 * Builds the `SpanRecord`s of the traces bench's seeded traces (lib/trace-seed.ts): deterministic
 * ids (trace `i` always has the same ones), times in ms with sub-ms precision.
 */

/** The id of seeded trace `i`: random-looking, as real ones are (an md5 of its number). */
export function traceIdOf(i: number): string {
  return createHash('md5').update(`bench-trace-${i}`).digest('hex');
}

/** The id of the `k`-th span (from 1) of trace `i`. */
export function spanIdOf(i: number, k: number): string {
  return createHash('md5').update(`${i}.${k}`).digest('hex').slice(0, 16);
}

/** Builds the spans of one trace. */
export class TraceBuilder {
  readonly spans: SpanRecord[] = [];
  readonly #i: number;
  readonly traceId: string;

  constructor(i: number) {
    this.#i = i;
    this.traceId = traceIdOf(i);
  }

  /** Adds a span (the k-th of the trace: its id) and returns its id. */
  add(
    span: { name: string; kind: SpanKind; parent?: string; start: number; end: number; resource: Attributes; scope: string },
    attributes: Attributes = {},
    events: readonly SpanEvent[] = [],
    error?: string,
  ): string {
    const spanId = spanIdOf(this.#i, this.spans.length + 1);
    this.spans.push({
      traceId: this.traceId,
      spanId,
      ...(span.parent !== undefined && { parentSpanId: span.parent }),
      name: span.name,
      kind: span.kind,
      startUs: Math.round(span.start * 1000),
      endUs: Math.round(span.end * 1000),
      status: error === undefined ? { code: 'unset' } : { code: 'error', message: error },
      attributes,
      events,
      links: [],
      resource: span.resource,
      scope: { name: span.scope, version: '0.1.0' },
    });
    return spanId;
  }
}

export const event = (at: number, name: string, attributes: Attributes = {}): SpanEvent => ({
  timeUs: Math.round(at * 1000),
  name,
  attributes,
});

/** A database CLIENT span under `parent`, 0.4 ms long. */
export function dbSpan(t: TraceBuilder, parent: string, at: number, resource: Attributes, op: string, table: string): void {
  t.add(
    {
      name: `db.${op.toLowerCase()} ${table}`,
      kind: 'client',
      parent,
      start: at,
      end: at + 0.4,
      resource,
      scope: '@opentelemetry/instrumentation-sqlite',
    },
    {
      'db.system.name': 'sqlite',
      'db.operation.name': op,
      'db.collection.name': table,
      'db.query.text': `${op} ... ${table} WHERE id = ?`,
    },
  );
}
