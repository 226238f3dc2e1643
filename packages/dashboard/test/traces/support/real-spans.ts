/**
 * Real spans for the trace tests: recorded by the real OpenTelemetry SDK, serialized by the official
 * OTLP serializers (the exporters' own code), and the `SpanRecord`s the dashboard must make of them.
 *
 *     const spans = await recordSpans(jobScenario);
 *     const body = protobufBody(spans); // or jsonBody(spans): what an exporter POSTs to /v1/traces
 *     assert.deepEqual(decodeTraces(body, 'protobuf'), expectedRecords(spans));
 */
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes as OtelAttributes,
  type HrTime,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { SPAN_KINDS, STATUS_CODES, type Attributes, type AttributeValue, type SpanRecord } from '../../../src/spans/model.ts';

export type { ReadableSpan } from '@opentelemetry/sdk-trace';

/** Writes spans with the tracer it is given; every span it starts must end. */
export type Scenario = (tracer: Tracer) => void | Promise<void>;

export interface RecordOptions {
  /** The resource's attributes. @default { 'service.name': 'tenants-api', 'process.pid': 4242 } */
  readonly resource?: OtelAttributes;
  /** The tracer's instrumentation scope. @default { name: 'pilotlight', version: '0.1.0' } */
  readonly scope?: { readonly name: string; readonly version?: string };
}

/** Runs `scenario` on a real SDK TracerProvider of its own and resolves with the spans it ended, in the order they ended. */
export async function recordSpans(scenario: Scenario, options: RecordOptions = {}): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes(options.resource ?? { 'service.name': 'tenants-api', 'process.pid': 4242 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const scope = options.scope ?? { name: 'pilotlight', version: '0.1.0' };
  await scenario(provider.getTracer(scope.name, scope.version));
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** The body an OTLP/HTTP protobuf exporter sends for `spans` (`application/x-protobuf`). */
export function protobufBody(spans: readonly ReadableSpan[]): Uint8Array {
  return ProtobufTraceSerializer.serializeRequest([...spans])!;
}

/** The body an OTLP/HTTP JSON exporter sends for `spans` (`application/json`). */
export function jsonBody(spans: readonly ReadableSpan[]): Uint8Array {
  return JsonTraceSerializer.serializeRequest([...spans])!;
}

/**
 * The records the dashboard must decode from a body of `spans`, worked out from the SDK's spans
 * (not from any OTLP body), in the order the serializers write them: grouped by resource, then by
 * scope, in order of first appearance.
 */
export function expectedRecords(spans: readonly ReadableSpan[]): SpanRecord[] {
  const groups = new Map<unknown, Map<string, ReadableSpan[]>>();
  for (const span of spans) {
    const byScope = groups.get(span.resource) ?? new Map<string, ReadableSpan[]>();
    groups.set(span.resource, byScope);
    const key = `${span.instrumentationScope.name}@${span.instrumentationScope.version ?? ''}`;
    byScope.set(key, [...(byScope.get(key) ?? []), span]);
  }
  return [...groups.values()].flatMap((byScope) => [...byScope.values()].flat()).map(expectedRecord);
}

function expectedRecord(span: ReadableSpan): SpanRecord {
  const { name, version } = span.instrumentationScope;
  const message = span.status.message;
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    ...(span.parentSpanContext && { parentSpanId: span.parentSpanContext.spanId }),
    name: span.name,
    // The SDK numbers kinds from INTERNAL = 0; OTLP from UNSPECIFIED = 0.
    kind: SPAN_KINDS[span.kind + 1]!,
    startUs: micros(span.startTime),
    endUs: micros(span.endTime),
    status: message ? { code: STATUS_CODES[span.status.code]!, message } : { code: STATUS_CODES[span.status.code]! },
    attributes: attributes(span.attributes),
    events: span.events
      .map((event) => ({ timeUs: micros(event.time), name: event.name, attributes: attributes(event.attributes ?? {}) }))
      .sort((a, b) => a.timeUs - b.timeUs),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: attributes(link.attributes ?? {}),
    })),
    resource: attributes(span.resource.attributes),
    scope: version ? { name, version } : { name },
  };
}

function micros([seconds, nanos]: HrTime): number {
  return seconds * 1_000_000 + Math.floor(nanos / 1000);
}

function attributes(source: OtelAttributes): Attributes {
  return Object.fromEntries(Object.entries(source).map(([key, value]) => [key, attributeValue(value)]));
}

/** An SDK attribute value as a record holds it: an integer beyond ±2^53 as its decimal string. */
function attributeValue(value: unknown): AttributeValue {
  if (Array.isArray(value)) return value.map(attributeValue);
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) return BigInt(value).toString();
  return (value ?? null) as AttributeValue;
}

/** Seconds since the epoch of the scenarios' first span: 2026-09-21T00:00:00Z. */
export const BASE_SECONDS = 1_790_000_000;

/** The time `ms` (and `nanos`) after `BASE_SECONDS`, as the SDK takes it: nanosecond precision kept. */
export function at(ms: number, nanos = 0): HrTime {
  const total = (ms % 1000) * 1_000_000 + nanos;
  return [BASE_SECONDS + Math.floor(ms / 1000) + Math.floor(total / 1e9), total % 1e9];
}

/**
 * A job's trace: an API request that enqueues a job, the worker's failed attempt (an exception with
 * its stack, events added out of time order) and its successful retry with a database call. Its
 * attributes cover every type (string, int, double, bool, their arrays, an int beyond 2^53, a
 * negative int); the attempts link to the enqueue span.
 */
export const jobScenario: Scenario = (tracer) => {
  const within = (parent: { spanContext(): SpanContext }) => trace.setSpanContext(context.active(), parent.spanContext());
  const request = tracer.startSpan('POST /api/tenants', {
    kind: SpanKind.SERVER,
    startTime: at(0, 123_456),
    root: true,
    attributes: {
      'http.request.method': 'POST',
      'http.response.status_code': 201,
      'tenant.ratio': 0.25,
      'tenant.trial': true,
      'tenant.tags': ['eu', 'beta'],
      'tenant.shards': [1, 2, 3],
      'tenant.weights': [1.5, -2.25],
      'tenant.flags': [true, false],
      'tenant.big': 2 ** 60,
      'tenant.offset': -42,
      'tenant.empty': '',
    },
  });
  const enqueue = tracer.startSpan(
    'enqueue TenantService.provisionTenant',
    { kind: SpanKind.PRODUCER, startTime: at(2, 999), attributes: { 'pilotlight.job.type': 'TenantService' } },
    within(request),
  );
  enqueue.addEvent('State Applied: Enqueued', { 'pilotlight.job.state': 'Enqueued', 'pilotlight.queue': 'default' }, at(3));
  enqueue.end(at(4, 1));

  const attempt = tracer.startSpan(
    'process TenantService.provisionTenant',
    {
      kind: SpanKind.CONSUMER,
      startTime: at(10),
      links: [{ context: enqueue.spanContext(), attributes: { 'pilotlight.link': 'enqueue', 'pilotlight.attempt': 1 } }],
      attributes: { 'pilotlight.job.type': 'TenantService', 'pilotlight.job.attempt': 1 },
    },
    within(enqueue),
  );
  attempt.addEvent('State Applied: Failed', { 'pilotlight.job.state': 'Failed' }, at(15));
  attempt.addEvent('State Applied: Processing', { 'pilotlight.job.state': 'Processing' }, at(10, 500));
  const error = new TypeError('storage not ready');
  error.stack =
    'TypeError: storage not ready\n    at provisionTenant (file:///app/jobs.js:12:11)\n    at async run (file:///app/worker.js:40:5)';
  attempt.recordException(error, at(14));
  attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'storage not ready' });
  attempt.end(at(15, 500));

  const retry = tracer.startSpan(
    'process TenantService.provisionTenant',
    {
      kind: SpanKind.CONSUMER,
      startTime: at(600),
      links: [{ context: enqueue.spanContext() }],
      attributes: { 'pilotlight.job.attempt': 2 },
    },
    within(enqueue),
  );
  const db = tracer.startSpan('db.insert tenants', { kind: SpanKind.CLIENT, startTime: at(601) }, within(retry));
  db.setStatus({ code: SpanStatusCode.OK });
  db.end(at(601, 250_000));
  tracer.startSpan('render welcome mail', { startTime: at(602) }, within(retry)).end(at(603));
  retry.addEvent('State Applied: Succeeded', at(1800));
  retry.end(at(1850));
  request.end(at(25));
};
