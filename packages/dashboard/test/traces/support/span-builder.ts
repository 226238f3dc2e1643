/**
 * Spans for tests: plain `SpanRecord` objects with every field filled, each with ids no other span of
 * the run has, so that tests state only what they are about.
 *
 *     const root = makeSpan({ name: 'process TenantService', startUs: at(0) });
 *     const child = makeSpan({ parent: root, name: 'SELECT', startUs: at(5), durationUs: 2_000 });
 */
import type { Attributes, InstrumentationScope, SpanRecord } from '../../../src/spans/model.ts';

/** 2026-01-01T00:00:00Z in microseconds: the time of the spans' starts unless a test gives another. */
export const BASE_US = Date.UTC(2026, 0, 1) * 1000;

/** `BASE_US` plus `ms` milliseconds. */
export function at(ms: number): number {
  return BASE_US + ms * 1000;
}

/** The process the spans come from unless a test gives another. */
export const WORKER_RESOURCE: Attributes = { 'service.name': 'worker', 'process.pid': 4242, 'host.name': 'test-host' };

export const PILOTLIGHT_SCOPE: InstrumentationScope = { name: 'pilotlight', version: '0.1.0' };

let lastId = 0;

/** A trace id (32 lowercase hex digits) no other call returns. */
export function newTraceId(): string {
  return `a${(++lastId).toString(16).padStart(31, '0')}`;
}

/** A span id (16 lowercase hex digits) no other call returns. */
export function newSpanId(): string {
  return `b${(++lastId).toString(16).padStart(15, '0')}`;
}

export type SpanFields = Partial<Omit<SpanRecord, 'parentSpanId'>> & {
  /** The parent span: its trace id and span id become this span's trace id and parent span id. */
  readonly parent?: SpanRecord;
  /** `endUs - startUs` when `endUs` is not given. @default 1000 (1 ms) */
  readonly durationUs?: number;
};

/**
 * A span with `fields` (a root span of a new trace, unless `parent` is given), an internal span of
 * 1 ms at `BASE_US` with status unset, two attributes, no events or links, from `WORKER_RESOURCE`
 * and `PILOTLIGHT_SCOPE` otherwise.
 */
export function makeSpan(fields: SpanFields = {}): SpanRecord {
  const { parent, durationUs = 1000, ...rest } = fields;
  const startUs = rest.startUs ?? BASE_US;
  return {
    traceId: parent?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    // Left out for a root span, as the decoder leaves it out: a stored root reads back equal.
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    name: 'span',
    kind: 'internal',
    startUs,
    endUs: startUs + durationUs,
    status: { code: 'unset' },
    attributes: { 'test.index': lastId, 'test.name': 'made by makeSpan' },
    events: [],
    links: [],
    resource: WORKER_RESOURCE,
    scope: PILOTLIGHT_SCOPE,
    ...rest,
  };
}
