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
import {
  base64Of,
  checkDepth,
  emptyDraft,
  finishLink,
  finishSpan,
  int64FromBigInt,
  microsFromNanos,
  scopeOf,
  storableText,
  setAttribute,
  type AttributeMap,
} from './normalize.ts';

/**
 * Decodes an OTLP/HTTP JSON body (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding)
 * into span records: field names in lowerCamelCase or, as the specification asks receivers to
 * accept, their original snake_case; ids as hex (any case); enums as integers or names
 * (`SPAN_KIND_SERVER`); 64-bit integers as decimal strings or numbers; unknown fields ignored; null
 * as the field's default, as in protobuf's JSON mapping.
 *
 * @throws OtlpDecodeError for text that is not JSON, a field of the wrong JSON type (naming its path,
 * `resourceSpans[0].scopeSpans[1].spans[3].traceId`), or a span with an invalid id.
 */
export function decodeJsonTraces(text: string): SpanRecord[] {
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch (error) {
    throw new OtlpDecodeError(`Invalid OTLP JSON body: ${(error as Error).message}`, { cause: error });
  }
  const spans: SpanRecord[] = [];
  const resourceSpans = arrayOf(field(objectOf(request, 'the body'), 'resourceSpans', 'resource_spans'), 'resourceSpans');
  for (let r = 0; r < resourceSpans.length; r++) {
    const where = `resourceSpans[${r}]`;
    const entry = objectOf(resourceSpans[r], where);
    const resourceValue = field(entry, 'resource', 'resource');
    const resource: AttributeMap = {};
    if (resourceValue !== undefined) {
      readAttributes(
        field(objectOf(resourceValue, `${where}.resource`), 'attributes', 'attributes'),
        1,
        resource,
        `${where}.resource.attributes`,
      );
    }
    const scopeSpans = arrayOf(field(entry, 'scopeSpans', 'scope_spans'), `${where}.scopeSpans`);
    for (let s = 0; s < scopeSpans.length; s++) readScopeSpans(scopeSpans[s], resource, `${where}.scopeSpans[${s}]`, spans);
  }
  return spans;
}

function readScopeSpans(value: unknown, resource: Attributes, where: string, spans: SpanRecord[]): void {
  const entry = objectOf(value, where);
  const scopeValue = field(entry, 'scope', 'scope');
  let scope: InstrumentationScope = { name: '' };
  if (scopeValue !== undefined) {
    const object = objectOf(scopeValue, `${where}.scope`);
    scope = scopeOf(
      stringOf(field(object, 'name', 'name'), `${where}.scope.name`),
      stringOf(field(object, 'version', 'version'), `${where}.scope.version`),
    );
  }
  const list = arrayOf(field(entry, 'spans', 'spans'), `${where}.spans`);
  for (let i = 0; i < list.length; i++) spans.push(readSpan(list[i], resource, scope, `${where}.spans[${i}]`));
}

function readSpan(value: unknown, resource: Attributes, scope: InstrumentationScope, where: string): SpanRecord {
  const span = objectOf(value, where);
  const draft = emptyDraft();
  draft.traceId = hexOf(field(span, 'traceId', 'trace_id'), `${where}.traceId`);
  draft.spanId = hexOf(field(span, 'spanId', 'span_id'), `${where}.spanId`);
  draft.parentSpanId = hexOf(field(span, 'parentSpanId', 'parent_span_id'), `${where}.parentSpanId`);
  draft.name = stringOf(field(span, 'name', 'name'), `${where}.name`);
  draft.kind = enumOf(field(span, 'kind', 'kind'), 'SPAN_KIND_', SPAN_KINDS, `${where}.kind`);
  draft.startUs = timeOf(field(span, 'startTimeUnixNano', 'start_time_unix_nano'), `${where}.startTimeUnixNano`);
  draft.endUs = timeOf(field(span, 'endTimeUnixNano', 'end_time_unix_nano'), `${where}.endTimeUnixNano`);
  const attributes: AttributeMap = {};
  readAttributes(field(span, 'attributes', 'attributes'), 1, attributes, `${where}.attributes`);
  draft.attributes = attributes;
  const events = arrayOf(field(span, 'events', 'events'), `${where}.events`);
  for (let i = 0; i < events.length; i++) draft.events.push(readEvent(events[i], `${where}.events[${i}]`));
  const links = arrayOf(field(span, 'links', 'links'), `${where}.links`);
  for (let i = 0; i < links.length; i++) draft.links.push(readLink(links[i], `${where}.links[${i}]`));
  const status = field(span, 'status', 'status');
  if (status !== undefined) {
    const object = objectOf(status, `${where}.status`);
    draft.statusMessage = stringOf(field(object, 'message', 'message'), `${where}.status.message`);
    draft.statusCode = enumOf(field(object, 'code', 'code'), 'STATUS_CODE_', STATUS_CODES, `${where}.status.code`);
  }
  return finishSpan(draft, resource, scope, where);
}

function readEvent(value: unknown, where: string): SpanEvent {
  const event = objectOf(value, where);
  const attributes: AttributeMap = {};
  readAttributes(field(event, 'attributes', 'attributes'), 1, attributes, `${where}.attributes`);
  return {
    timeUs: timeOf(field(event, 'timeUnixNano', 'time_unix_nano'), `${where}.timeUnixNano`),
    name: stringOf(field(event, 'name', 'name'), `${where}.name`),
    attributes,
  };
}

function readLink(value: unknown, where: string): SpanLink {
  const link = objectOf(value, where);
  const attributes: AttributeMap = {};
  readAttributes(field(link, 'attributes', 'attributes'), 1, attributes, `${where}.attributes`);
  return finishLink(
    hexOf(field(link, 'traceId', 'trace_id'), `${where}.traceId`),
    hexOf(field(link, 'spanId', 'span_id'), `${where}.spanId`),
    attributes,
    where,
  );
}

/** A list of KeyValue objects into `target`. */
function readAttributes(value: unknown, depth: number, target: AttributeMap, where: string): void {
  const list = arrayOf(value, where);
  for (let i = 0; i < list.length; i++) {
    const entry = objectOf(list[i], `${where}[${i}]`);
    const key = stringOf(field(entry, 'key', 'key'), `${where}[${i}].key`);
    const anyValue = field(entry, 'value', 'value');
    setAttribute(target, key, anyValue === undefined ? null : readAnyValue(anyValue, depth, `${where}[${i}].value`));
  }
}

/** An AnyValue object: the first of its oneof's fields present; none is null. */
function readAnyValue(value: unknown, depth: number, where: string): AttributeValue {
  checkDepth(depth, where);
  const object = objectOf(value, where);
  let v = field(object, 'stringValue', 'string_value');
  if (v !== undefined) return stringOf(v, `${where}.stringValue`);
  v = field(object, 'boolValue', 'bool_value');
  if (v !== undefined) {
    if (typeof v !== 'boolean') throw wrongType(`${where}.boolValue`, 'true or false', v);
    return v;
  }
  v = field(object, 'intValue', 'int_value');
  if (v !== undefined) return int64Of(v, `${where}.intValue`);
  v = field(object, 'doubleValue', 'double_value');
  if (v !== undefined) return doubleOf(v, `${where}.doubleValue`);
  v = field(object, 'arrayValue', 'array_value');
  if (v !== undefined) {
    const values = arrayOf(field(objectOf(v, `${where}.arrayValue`), 'values', 'values'), `${where}.arrayValue.values`);
    const array: AttributeValue[] = [];
    for (let i = 0; i < values.length; i++) array.push(readAnyValue(values[i], depth + 1, `${where}.arrayValue.values[${i}]`));
    return array;
  }
  v = field(object, 'kvlistValue', 'kvlist_value');
  if (v !== undefined) {
    const list: AttributeMap = {};
    readAttributes(field(objectOf(v, `${where}.kvlistValue`), 'values', 'values'), depth + 1, list, `${where}.kvlistValue.values`);
    return list;
  }
  v = field(object, 'bytesValue', 'bytes_value');
  if (v !== undefined) {
    // Protobuf's JSON mapping writes bytes in standard base64 and accepts the URL-safe alphabet too.
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw wrongType(`${where}.bytesValue`, 'a base64 string', v);
    return base64Of(Buffer.from(v, 'base64'));
  }
  return null;
}

/** A field by its lowerCamelCase or snake_case name; null (protobuf JSON's "default value") is undefined. */
function field(object: Record<string, unknown>, camelCase: string, snakeCase: string): unknown {
  const value = object[camelCase] ?? object[snakeCase];
  return value === null ? undefined : value;
}

function objectOf(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(where, 'an object', value);
  return value as Record<string, unknown>;
}

/** An array field; left out is empty. */
function arrayOf(value: unknown, where: string): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw wrongType(where, 'an array', value);
  return value;
}

/** A string field; left out is empty. NUL and lone surrogates become U+FFFD (`storableText`). */
function stringOf(value: unknown, where: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw wrongType(where, 'a string', value);
  return storableText(value);
}

/** An id: hex digits in any case, lowercased (its length and value are checked with the span). */
function hexOf(value: unknown, where: string): string {
  const text = stringOf(value, where);
  if (!/^[0-9a-fA-F]*$/.test(text)) throw wrongType(where, 'hex digits', value);
  return text.toLowerCase();
}

/** An enum: its number, or its name (`SPAN_KIND_SERVER`, any case); a name the dashboard does not know is 0. */
function enumOf(value: unknown, prefix: string, names: readonly string[], where: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const upper = value.toUpperCase();
    return upper.startsWith(prefix) ? Math.max(0, names.indexOf(upper.slice(prefix.length).toLowerCase())) : 0;
  }
  throw wrongType(where, `an integer or a name (${prefix}…)`, value);
}

/** A 64-bit integer: a decimal string, or a number (which JSON.parse may already have rounded beyond 2^53). */
function bigIntOf(value: unknown, where: string): bigint {
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw wrongType(where, 'an integer (a decimal string or a number)', value);
}

function int64Of(value: unknown, where: string): number | string {
  const integer = bigIntOf(value, where);
  if (integer !== BigInt.asIntN(64, integer)) throw wrongType(where, 'an int64', value);
  return int64FromBigInt(integer);
}

/** Unix nanoseconds (a fixed64) as microseconds; left out is 0. */
function timeOf(value: unknown, where: string): number {
  if (value === undefined) return 0;
  const nanos = bigIntOf(value, where);
  if (nanos !== BigInt.asUintN(64, nanos)) throw wrongType(where, 'unix nanoseconds (0 to 2^64 - 1)', value);
  return microsFromNanos(Number(nanos >> 32n), Number(nanos & 0xffffffffn), where);
}

/** A double: a number, or a string (protobuf's JSON mapping writes "NaN", "Infinity" and "-Infinity" so). */
function doubleOf(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const number = Number(value);
    if (!Number.isNaN(number) || value === 'NaN') return number;
  }
  throw wrongType(where, 'a number', value);
}

function wrongType(where: string, expected: string, value: unknown): OtlpDecodeError {
  const received = Array.isArray(value)
    ? 'an array'
    : value === null
      ? 'null'
      : typeof value === 'string'
        ? JSON.stringify(value.slice(0, 80))
        : typeof value === 'object'
          ? 'an object'
          : String(value);
  return new OtlpDecodeError(`Invalid OTLP JSON body: ${where} must be ${expected}; received ${received}`);
}
