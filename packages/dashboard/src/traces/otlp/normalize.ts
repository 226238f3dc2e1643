import {
  SPAN_KINDS,
  STATUS_CODES,
  type Attributes,
  type AttributeValue,
  type InstrumentationScope,
  type SpanEvent,
  type SpanLink,
  type SpanRecord,
} from '../../spans/model.ts';
import { OtlpDecodeError } from './otlp-decode-error.ts';

/**
 * What both OTLP decoders (protobuf and JSON) share: the rules that turn a received span into a
 * `SpanRecord`. The decoders only read their encoding; every check and conversion of the values is
 * made here, so that the same request gives the same records whichever encoding it came in.
 */

/** An attribute value nested deeper than this (arrays and key-value lists within each other) is malformed. */
export const MAX_VALUE_DEPTH = 32;

/** A mutable attribute map while a decoder fills it. */
export type AttributeMap = Record<string, AttributeValue>;

/** A span as a decoder collects it: ids as hex (not yet checked), kind and status as their wire numbers. */
export interface SpanDraft {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startUs: number;
  endUs: number;
  statusCode: number;
  statusMessage: string;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
}

/** A new draft with every field at its protobuf default (what a field left out means). */
export function emptyDraft(): SpanDraft {
  return {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startUs: 0,
    endUs: 0,
    statusCode: 0,
    statusMessage: '',
    attributes: {},
    events: [],
    links: [],
  };
}

/**
 * The record of a decoded span, `resource` and `scope` shared with the other spans of its
 * `ResourceSpans` and `ScopeSpans` (never copied: ingestion speed). Throws `OtlpDecodeError` for an
 * invalid id: the whole request is refused, which is simpler and safer than keeping part of it.
 */
export function finishSpan(draft: SpanDraft, resource: Attributes, scope: InstrumentationScope, where: string): SpanRecord {
  const events = draft.events;
  for (let i = 1; i < events.length; i++) {
    // Exporters send events in the order they were added, which is nearly always time order.
    if (events[i]!.timeUs < events[i - 1]!.timeUs) {
      events.sort((a, b) => a.timeUs - b.timeUs);
      break;
    }
  }
  const record: { -readonly [K in keyof SpanRecord]: SpanRecord[K] } = {
    traceId: checkId(draft.traceId, 16, where, 'traceId'),
    spanId: checkId(draft.spanId, 8, where, 'spanId'),
    name: draft.name,
    kind: SPAN_KINDS[draft.kind] ?? 'unspecified',
    startUs: draft.startUs,
    // A clock step between start and end must not give a negative duration.
    endUs: draft.endUs < draft.startUs ? draft.startUs : draft.endUs,
    status:
      draft.statusMessage === ''
        ? { code: STATUS_CODES[draft.statusCode] ?? 'unset' }
        : { code: STATUS_CODES[draft.statusCode] ?? 'unset', message: draft.statusMessage },
    attributes: draft.attributes,
    events,
    links: draft.links,
    resource,
    scope,
  };
  // An empty parent id is how OTLP marks a root span.
  if (draft.parentSpanId !== '') record.parentSpanId = checkId(draft.parentSpanId, 8, where, 'parentSpanId');
  return record;
}

/** A link's record; its ids are checked as a span's. */
export function finishLink(traceId: string, spanId: string, attributes: Attributes, where: string): SpanLink {
  return { traceId: checkId(traceId, 16, where, 'traceId'), spanId: checkId(spanId, 8, where, 'spanId'), attributes };
}

/** An instrumentation scope's record: an empty version is left out. */
export function scopeOf(name: string, version: string): InstrumentationScope {
  return version === '' ? { name } : { name, version };
}

/**
 * `hex` (lowercase, as the decoder produced it from bytes or checked text) if it is an id of
 * `bytes` bytes that is not all zeros, as the OTLP specification defines a valid id.
 */
function checkId(hex: string, bytes: number, where: string, field: string): string {
  if (hex.length !== bytes * 2 || /^0*$/.test(hex)) {
    throw new OtlpDecodeError(
      `${where}.${field} must be ${bytes} bytes (${bytes * 2} hex digits) and not all zeros; received ${hex === '' ? 'none' : `"${hex.slice(0, 64)}"`}: the request was refused`,
    );
  }
  return hex;
}

/**
 * Microseconds since the epoch (floor) of unix nanoseconds given as the high and low 32 bits of a
 * fixed64, computed exactly: nanoseconds since 1970 exceed 2^53 and a double would round them.
 */
export function microsFromNanos(hi: number, lo: number, where: string): number {
  // hi·2^32 + lo = (q·1000 + r)·2^32 + lo, so ⌊·/1000⌋ = q·2^32 + ⌊(r·2^32 + lo)/1000⌋, where
  // r·2^32 + lo < 2^42 is exact and its division by 1000 cannot round across an integer.
  const q = Math.floor(hi / 1000);
  const micros = q * 4294967296 + Math.floor(((hi - q * 1000) * 4294967296 + lo) / 1000);
  if (!Number.isSafeInteger(micros)) {
    throw new OtlpDecodeError(`${where} is a time after the year 2255 (${micros} µs since 1970): the request was refused`);
  }
  return micros;
}

/** An int64 given as its high and low 32 bits (two's complement): a number, or beyond ±2^53 its decimal string. */
export function int64FromHalves(hi: number, lo: number): number | string {
  const signedHi = hi | 0;
  // |signedHi| ≤ 2^21 keeps signedHi·2^32 + lo exact.
  if (signedHi >= -0x200000 && signedHi < 0x200000) {
    const value = signedHi * 4294967296 + lo;
    if (Number.isSafeInteger(value)) return value;
  }
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}

/** An int64 as a number, or beyond ±2^53 (where a number would round it) its decimal string. */
export function int64FromBigInt(value: bigint): number | string {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}

/** A bytes value as an attribute holds it: standard base64. */
export function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Sets an attribute; a key `__proto__` (any key may come over the network) is an own property, not the prototype. */
export function setAttribute(target: AttributeMap, key: string, value: AttributeValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Throws when a value at `depth` (1 for an attribute's own value) is nested deeper than `MAX_VALUE_DEPTH`. */
export function checkDepth(depth: number, where: string): void {
  if (depth > MAX_VALUE_DEPTH) {
    throw new OtlpDecodeError(`${where} nests attribute values deeper than ${MAX_VALUE_DEPTH} levels: the request was refused`);
  }
}

/** NUL, and a UTF-16 surrogate without its other half. */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text as the trace stores keep it: NUL, which PostgreSQL's `text` and `jsonb` refuse (one such
 * attribute would fail its whole batch on every retry), and lone surrogates, which are not UTF-8,
 * become U+FFFD, the replacement character, in every store alike.
 */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}
