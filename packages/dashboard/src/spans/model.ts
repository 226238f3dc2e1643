/**
 * A span as the dashboard's trace store keeps it: decoded from OTLP (protobuf or JSON), written by a
 * `TraceStore`, read back by the pages. Times are microseconds since the Unix epoch (OTLP sends
 * nanoseconds; microseconds fit a JavaScript number exactly, nanoseconds since 1970 do not).
 *
 * Terminology, as in the OpenTelemetry trace data model
 * (https://opentelemetry.io/docs/specs/otel/trace/api/):
 * - **trace**: the spans sharing one trace id, across every process that took part;
 * - **span**: one operation, with a parent span (none for the root), a kind, a status, attributes,
 *   events (the `State Applied` events, `exception`) and links;
 * - **resource**: the process that emitted the span (`service.name`, `process.pid`, `host.name`…);
 * - **scope**: the instrumentation that created it (`pilotlight`, `@opentelemetry/instrumentation-http`…).
 */

/** An attribute value: OTLP's `AnyValue` (int64 beyond 2^53 is kept as its decimal string; bytes as base64). */
export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };

export type Attributes = Readonly<Record<string, AttributeValue>>;

/** OTLP's `Span.SpanKind`, by name, lowercase. */
export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** The kinds in OTLP enum order: `SPAN_KINDS[n]` is the kind numbered `n` on the wire. */
export const SPAN_KINDS: readonly SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

/** OTLP's `Status.StatusCode`, by name, lowercase. */
export type SpanStatusCode = 'unset' | 'ok' | 'error';

/** The status codes in OTLP enum order. */
export const STATUS_CODES: readonly SpanStatusCode[] = ['unset', 'ok', 'error'];

export interface SpanStatus {
  readonly code: SpanStatusCode;
  /** Set with `error` (the description); empty is left out. */
  readonly message?: string;
}

export interface SpanEvent {
  readonly timeUs: number;
  readonly name: string;
  readonly attributes: Attributes;
}

export interface SpanLink {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  readonly attributes: Attributes;
}

export interface InstrumentationScope {
  readonly name: string;
  readonly version?: string;
}

export interface SpanRecord {
  /** 32 lowercase hex digits, never all zeros. */
  readonly traceId: string;
  /** 16 lowercase hex digits, never all zeros. */
  readonly spanId: string;
  /** 16 lowercase hex digits; undefined for a root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startUs: number;
  /** At or after `startUs`. */
  readonly endUs: number;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  /** In time order. */
  readonly events: readonly SpanEvent[];
  readonly links: readonly SpanLink[];
  /** The attributes of the process that emitted it (`service.name`, `process.pid`, `host.name`…). */
  readonly resource: Attributes;
  readonly scope: InstrumentationScope;
}

/** `service.name` of a resource, or OpenTelemetry's `unknown_service` when it has none. */
export function serviceName(resource: Attributes): string {
  const name = resource['service.name'];
  return typeof name === 'string' && name !== '' ? name : 'unknown_service';
}
