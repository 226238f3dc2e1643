import type { Attributes, AttributeValue, InstrumentationScope, SpanEvent, SpanLink, SpanRecord } from '../../spans/model.ts';
import {
  base64Of,
  checkDepth,
  emptyDraft,
  finishLink,
  finishSpan,
  int64FromHalves,
  microsFromNanos,
  scopeOf,
  setAttribute,
  type AttributeMap,
} from './normalize.ts';
import { WireReader, WireType } from './wire-reader.ts';

/**
 * Decodes an OTLP/HTTP protobuf body, an `ExportTraceServiceRequest` of opentelemetry-proto's
 * `collector/trace/v1` (field numbers from `trace/v1/trace.proto`, `common/v1/common.proto` and
 * `resource/v1/resource.proto`), into span records. Unknown fields are skipped, as protobuf requires
 * of a reader of an older schema. An empty body is a valid request without spans.
 *
 * @throws OtlpDecodeError when the body is truncated or malformed, or a span's id is invalid.
 */
export function decodeProtobufTraces(body: Uint8Array): SpanRecord[] {
  const reader = new WireReader(body);
  const spans: SpanRecord[] = [];
  let resourceIndex = 0;
  while (reader.pos < reader.length) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'ExportTraceServiceRequest.resource_spans');
      readResourceSpans(reader, reader.enter(), `resourceSpans[${resourceIndex++}]`, spans);
    } else {
      reader.skip();
    }
  }
  return spans;
}

function readResourceSpans(reader: WireReader, end: number, where: string, spans: SpanRecord[]): void {
  // Filled in place, whichever order the fields come in: every span of this ResourceSpans shares it.
  const resource: AttributeMap = {};
  let scopeIndex = 0;
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'ResourceSpans.resource');
      readAttributesOf(reader, reader.enter(), 1, resource, `${where}.resource`);
    } else if (reader.field === 2) {
      reader.expect(WireType.lengthDelimited, 'ResourceSpans.scope_spans');
      readScopeSpans(reader, reader.enter(), resource, `${where}.scopeSpans[${scopeIndex++}]`, spans);
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
}

function readScopeSpans(reader: WireReader, end: number, resource: Attributes, where: string, spans: SpanRecord[]): void {
  // The scope is usually first, but a later one must still reach the spans read before it.
  const scope: { name: string; version?: string } = { name: '' };
  let spanIndex = 0;
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'ScopeSpans.scope');
      readScope(reader, reader.enter(), scope);
    } else if (reader.field === 2) {
      reader.expect(WireType.lengthDelimited, 'ScopeSpans.spans');
      spans.push(readSpan(reader, reader.enter(), resource, scope, `${where}.spans[${spanIndex++}]`));
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
}

function readScope(reader: WireReader, end: number, scope: { name: string; version?: string }): void {
  let name = '';
  let version = '';
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'InstrumentationScope.name');
      name = reader.string();
    } else if (reader.field === 2) {
      reader.expect(WireType.lengthDelimited, 'InstrumentationScope.version');
      version = reader.string();
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
  const decoded = scopeOf(name, version);
  scope.name = decoded.name;
  if (decoded.version !== undefined) scope.version = decoded.version;
}

function readSpan(reader: WireReader, end: number, resource: Attributes, scope: InstrumentationScope, where: string): SpanRecord {
  const draft = emptyDraft();
  const attributes: AttributeMap = {};
  draft.attributes = attributes;
  while (reader.pos < end) {
    reader.tag();
    switch (reader.field) {
      case 1:
        reader.expect(WireType.lengthDelimited, 'Span.trace_id');
        draft.traceId = reader.hex();
        break;
      case 2:
        reader.expect(WireType.lengthDelimited, 'Span.span_id');
        draft.spanId = reader.hex();
        break;
      case 4:
        reader.expect(WireType.lengthDelimited, 'Span.parent_span_id');
        draft.parentSpanId = reader.hex();
        break;
      case 5:
        reader.expect(WireType.lengthDelimited, 'Span.name');
        draft.name = reader.string();
        break;
      case 6:
        reader.expect(WireType.varint, 'Span.kind');
        draft.kind = reader.int32();
        break;
      case 7:
        reader.expect(WireType.fixed64, 'Span.start_time_unix_nano');
        reader.fixed64();
        draft.startUs = microsFromNanos(reader.hi, reader.lo, `${where}.startTimeUnixNano`);
        break;
      case 8:
        reader.expect(WireType.fixed64, 'Span.end_time_unix_nano');
        reader.fixed64();
        draft.endUs = microsFromNanos(reader.hi, reader.lo, `${where}.endTimeUnixNano`);
        break;
      case 9:
        reader.expect(WireType.lengthDelimited, 'Span.attributes');
        readKeyValue(reader, reader.enter(), 1, attributes, `${where}.attributes`);
        break;
      case 11:
        reader.expect(WireType.lengthDelimited, 'Span.events');
        draft.events.push(readEvent(reader, reader.enter(), `${where}.events[${draft.events.length}]`));
        break;
      case 13:
        reader.expect(WireType.lengthDelimited, 'Span.links');
        draft.links.push(readLink(reader, reader.enter(), `${where}.links[${draft.links.length}]`));
        break;
      case 15:
        reader.expect(WireType.lengthDelimited, 'Span.status');
        readStatus(reader, reader.enter(), draft);
        break;
      default:
        // 3 trace_state, 10/12/14 dropped counts, 16 flags: not kept.
        reader.skip();
    }
  }
  reader.leave(end);
  return finishSpan(draft, resource, scope, where);
}

function readStatus(reader: WireReader, end: number, draft: { statusCode: number; statusMessage: string }): void {
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 2) {
      reader.expect(WireType.lengthDelimited, 'Status.message');
      draft.statusMessage = reader.string();
    } else if (reader.field === 3) {
      reader.expect(WireType.varint, 'Status.code');
      draft.statusCode = reader.int32();
    } else {
      // 1 is the deprecated code of OTLP before 0.9, superseded by 3.
      reader.skip();
    }
  }
  reader.leave(end);
}

function readEvent(reader: WireReader, end: number, where: string): SpanEvent {
  let timeUs = 0;
  let name = '';
  const attributes: AttributeMap = {};
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.fixed64, 'Span.Event.time_unix_nano');
      reader.fixed64();
      timeUs = microsFromNanos(reader.hi, reader.lo, `${where}.timeUnixNano`);
    } else if (reader.field === 2) {
      reader.expect(WireType.lengthDelimited, 'Span.Event.name');
      name = reader.string();
    } else if (reader.field === 3) {
      reader.expect(WireType.lengthDelimited, 'Span.Event.attributes');
      readKeyValue(reader, reader.enter(), 1, attributes, `${where}.attributes`);
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
  return { timeUs, name, attributes };
}

function readLink(reader: WireReader, end: number, where: string): SpanLink {
  let traceId = '';
  let spanId = '';
  const attributes: AttributeMap = {};
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'Span.Link.trace_id');
      traceId = reader.hex();
    } else if (reader.field === 2) {
      reader.expect(WireType.lengthDelimited, 'Span.Link.span_id');
      spanId = reader.hex();
    } else if (reader.field === 4) {
      reader.expect(WireType.lengthDelimited, 'Span.Link.attributes');
      readKeyValue(reader, reader.enter(), 1, attributes, `${where}.attributes`);
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
  return finishLink(traceId, spanId, attributes, where);
}

/** The attributes (field 1, repeated KeyValue) of a Resource or a KeyValueList, into `target`. */
function readAttributesOf(reader: WireReader, end: number, depth: number, target: AttributeMap, where: string): void {
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'attributes');
      readKeyValue(reader, reader.enter(), depth, target, where);
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
}

/** One KeyValue message into `target`; a value left out is null. */
function readKeyValue(reader: WireReader, end: number, depth: number, target: AttributeMap, where: string): void {
  let key = '';
  let value: AttributeValue = null;
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'KeyValue.key');
      key = reader.string();
    } else if (reader.field === 2) {
      reader.expect(WireType.lengthDelimited, 'KeyValue.value');
      value = readAnyValue(reader, reader.enter(), depth, where);
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
  setAttribute(target, key, value);
}

/** An AnyValue message (a oneof: the last field present wins, as protobuf specifies); empty is null. */
function readAnyValue(reader: WireReader, end: number, depth: number, where: string): AttributeValue {
  checkDepth(depth, where);
  let value: AttributeValue = null;
  while (reader.pos < end) {
    reader.tag();
    switch (reader.field) {
      case 1:
        reader.expect(WireType.lengthDelimited, 'AnyValue.string_value');
        value = reader.string();
        break;
      case 2:
        reader.expect(WireType.varint, 'AnyValue.bool_value');
        reader.varint64();
        value = reader.lo !== 0 || reader.hi !== 0;
        break;
      case 3:
        reader.expect(WireType.varint, 'AnyValue.int_value');
        reader.varint64();
        value = int64FromHalves(reader.hi, reader.lo);
        break;
      case 4:
        reader.expect(WireType.fixed64, 'AnyValue.double_value');
        value = reader.double();
        break;
      case 5:
        reader.expect(WireType.lengthDelimited, 'AnyValue.array_value');
        value = readArray(reader, reader.enter(), depth + 1, where);
        break;
      case 6: {
        reader.expect(WireType.lengthDelimited, 'AnyValue.kvlist_value');
        const list: AttributeMap = {};
        readAttributesOf(reader, reader.enter(), depth + 1, list, where);
        value = list;
        break;
      }
      case 7:
        reader.expect(WireType.lengthDelimited, 'AnyValue.bytes_value');
        value = base64Of(reader.bytes());
        break;
      default:
        reader.skip();
    }
  }
  reader.leave(end);
  return value;
}

/** An ArrayValue message: its values (field 1). */
function readArray(reader: WireReader, end: number, depth: number, where: string): AttributeValue[] {
  const values: AttributeValue[] = [];
  while (reader.pos < end) {
    reader.tag();
    if (reader.field === 1) {
      reader.expect(WireType.lengthDelimited, 'ArrayValue.values');
      values.push(readAnyValue(reader, reader.enter(), depth, where));
    } else {
      reader.skip();
    }
  }
  reader.leave(end);
  return values;
}
