/** The protobuf decoder at the wire level: bodies written byte by byte, every truncation of a real body, garbage. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, PilotlightError } from 'pilotlight';
import type { AttributeValue, SpanRecord } from '../../src/spans/model.ts';
import { decodeProtobufTraces } from '../../src/traces/otlp/decode-protobuf.ts';
import { OtlpDecodeError } from '../../src/traces/otlp/otlp-decode-error.ts';
import { jobScenario, protobufBody, recordSpans } from './support/real-spans.ts';

// A minimal protobuf writer, to write what no official serializer would: unknown fields, groups,
// wrong wire types, negative enums, bad ids. Each function returns one encoded field.
type Bytes = readonly number[];
const varint = (value: bigint): Bytes => {
  const out: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest === 0n ? low : low | 0x80);
  } while (rest !== 0n);
  return out;
};
const tag = (field: number, wireType: number): Bytes => varint(BigInt(field * 8 + wireType));
const int = (field: number, value: bigint | number): Bytes => [...tag(field, 0), ...varint(BigInt(value))];
const fixed64 = (field: number, value: bigint): Bytes => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return [...tag(field, 1), ...bytes];
};
const fixed32 = (field: number, value: number): Bytes => [
  ...tag(field, 5),
  value & 0xff,
  (value >>> 8) & 0xff,
  (value >>> 16) & 0xff,
  value >>> 24,
];
const double = (field: number, value: number): Bytes => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value, true);
  return [...tag(field, 1), ...bytes];
};
const bytes = (field: number, content: Bytes | string): Bytes => {
  const body = typeof content === 'string' ? [...new TextEncoder().encode(content)] : content;
  return [...tag(field, 2), ...varint(BigInt(body.length)), ...body];
};
const message = (field: number, ...fields: Bytes[]): Bytes => bytes(field, fields.flat());
const group = (field: number, ...fields: Bytes[]): Bytes => [...tag(field, 3), ...fields.flat(), ...tag(field, 4)];
const hex = (text: string): Bytes => [...Buffer.from(text, 'hex')];
const body = (...fields: Bytes[]): Uint8Array => Uint8Array.from(fields.flat());

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const PARENT = '00f067aa0ba902b7';
const T0 = 1_790_000_000_123_456_789n; // ns

/** KeyValue{key, value: AnyValue{...valueFields}}. */
const keyValue = (field: number, key: string, ...valueFields: Bytes[]): Bytes => message(field, bytes(1, key), message(2, ...valueFields));
/** A span with valid ids and times, plus `fields`. */
const span = (...fields: Bytes[]): Bytes =>
  message(2, bytes(1, hex(TRACE)), bytes(2, hex(SPAN)), bytes(5, 'op'), fixed64(7, T0), fixed64(8, T0 + 1000n), ...fields);
/** A request of one ResourceSpans of one ScopeSpans holding `spans`. */
const request = (...spans: Bytes[]): Uint8Array => body(message(1, message(2, ...spans)));

function decodesOne(input: Uint8Array): SpanRecord {
  const spans = decodeProtobufTraces(input);
  assert.equal(spans.length, 1);
  return spans[0]!;
}

/** decodeProtobufTraces(input) throws an OtlpDecodeError whose message matches `message`. */
function refuses(input: Uint8Array, message: RegExp): void {
  assert.throws(
    () => decodeProtobufTraces(input),
    (error: unknown) => {
      assert.ok(error instanceof OtlpDecodeError, String(error));
      assert.ok(error instanceof PilotlightError);
      assert.equal(error.code, ErrorCodes.OTLP_INVALID);
      assert.equal(error.name, 'OtlpDecodeError');
      assert.match(error.message, message);
      return true;
    },
  );
}

/** Every span a decoder returns must carry valid ids, whatever it was given. */
function assertValidIds(spans: readonly SpanRecord[]): void {
  for (const record of spans) {
    assert.match(record.traceId, /^(?!0{32})[0-9a-f]{32}$/);
    assert.match(record.spanId, /^(?!0{16})[0-9a-f]{16}$/);
    if (record.parentSpanId !== undefined) assert.match(record.parentSpanId, /^(?!0{16})[0-9a-f]{16}$/);
    assert.ok(record.endUs >= record.startUs);
  }
}

describe('decodeProtobufTraces()', () => {
  it('decodes an empty body as a request without spans', () => {
    assert.deepEqual(decodeProtobufTraces(new Uint8Array(0)), []);
    assert.deepEqual(decodeProtobufTraces(body(message(1))), []);
  });

  it('decodes a hand-written span: defaults, ids, times to the µs (floor), status, kind', () => {
    const record = decodesOne(request(span(bytes(4, hex(PARENT)), int(6, 2), message(15, bytes(2, 'boom'), int(3, 2)))));
    assert.deepEqual(record, {
      traceId: TRACE,
      spanId: SPAN,
      parentSpanId: PARENT,
      name: 'op',
      kind: 'server',
      startUs: 1_790_000_000_123_456,
      endUs: 1_790_000_000_123_457,
      status: { code: 'error', message: 'boom' },
      attributes: {},
      events: [],
      links: [],
      resource: {},
      scope: { name: '' },
    });
    // An empty parent id is a root span; out-of-range enums (also negative: 10-byte varints) are unspecified/unset.
    const root = decodesOne(request(span(bytes(4, []), int(6, 99), message(15, int(3, -1), bytes(2, '')))));
    assert.equal(root.parentSpanId, undefined);
    assert.ok(!('parentSpanId' in root));
    assert.equal(root.kind, 'unspecified');
    assert.deepEqual(root.status, { code: 'unset' });
    assert.equal(decodesOne(request(span(int(6, -3)))).kind, 'unspecified');
  });

  it('converts nanoseconds to microseconds exactly, and an end before the start to the start', () => {
    const record = decodesOne(request(span(fixed64(7, 1_790_000_000_999_999_999n), fixed64(8, 1_790_000_000_000_000_001n))));
    assert.equal(record.startUs, 1_790_000_000_999_999);
    assert.equal(record.endUs, 1_790_000_000_999_999);
    // The largest time a microsecond number holds exactly (2^53 - 1 µs, in 2255), and one beyond it.
    assert.equal(decodesOne(request(span(fixed64(7, 9_007_199_254_740_991_999n), fixed64(8, 0n)))).startUs, 9_007_199_254_740_991);
    refuses(request(span(fixed64(7, 9_007_199_254_740_992_000n))), /spans\[0\]\.startTimeUnixNano is a time after the year 2255/);
    refuses(request(span(fixed64(8, 2n ** 64n - 1n))), /endTimeUnixNano is a time after the year 2255/);
  });

  it('decodes attribute values of every type; int64 beyond ±2^53 as its decimal string', () => {
    const values: [Bytes, AttributeValue][] = [
      [bytes(1, 'text é'), 'text é'],
      [int(2, 1), true],
      [int(2, 0), false],
      [int(3, 42), 42],
      [int(3, -1), -1],
      [int(3, 2n ** 53n - 1n), 9_007_199_254_740_991],
      [int(3, -(2n ** 53n) + 1n), -9_007_199_254_740_991],
      [int(3, 2n ** 53n), '9007199254740992'],
      [int(3, -(2n ** 53n)), '-9007199254740992'],
      [int(3, 2n ** 63n - 1n), '9223372036854775807'],
      [int(3, -(2n ** 63n)), '-9223372036854775808'],
      [double(4, 2.5), 2.5],
      [double(4, -0.125), -0.125],
      [message(5, message(1, int(3, 1)), message(1, bytes(1, 'two')), message(1)), [1, 'two', null]],
      [message(6, keyValue(1, 'a', int(3, 1)), keyValue(1, 'b', message(5))), { a: 1, b: [] }],
      [bytes(7, [0, 1, 2, 250, 255]), 'AAEC+v8='],
      [[], null],
      // A oneof written twice: the last one wins, as in every protobuf runtime.
      [[...bytes(1, 'first'), ...int(3, 7)], 7],
    ];
    const record = decodesOne(request(span(...values.map(([value], i) => keyValue(9, `k${i}`, value)))));
    assert.deepEqual(record.attributes, Object.fromEntries(values.map(([, expected], i) => [`k${i}`, expected])));
    // A KeyValue without a value is null; a key `__proto__` is an own attribute, not the prototype.
    const odd = decodesOne(request(span(message(9, bytes(1, 'none')), keyValue(9, '__proto__', bytes(1, 'x')))));
    assert.equal(odd.attributes['none'], null);
    assert.equal(Object.getPrototypeOf(odd.attributes), Object.prototype);
    assert.deepEqual(Object.keys(odd.attributes), ['none', '__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(odd.attributes, '__proto__')?.value, 'x');
  });

  it('refuses values nested deeper than 32 levels', () => {
    const nested = (depth: number): Bytes => (depth === 1 ? int(3, 1) : message(5, message(1, nested(depth - 1))));
    const unwrap = (value: AttributeValue, depth: number): AttributeValue =>
      depth === 1 ? value : unwrap((value as AttributeValue[])[0]!, depth - 1);
    assert.equal(unwrap(decodesOne(request(span(keyValue(9, 'deep', nested(32))))).attributes['deep']!, 32), 1);
    refuses(request(span(keyValue(9, 'deep', nested(33)))), /spans\[0\]\.attributes nests attribute values deeper than 32 levels/);
    const nestedList = (depth: number): Bytes => (depth === 1 ? int(3, 1) : message(6, keyValue(1, 'k', nestedList(depth - 1))));
    decodesOne(request(span(keyValue(9, 'deep', nestedList(32)))));
    refuses(
      body(message(1, message(1, keyValue(1, 'deep', nestedList(33))))),
      /resourceSpans\[0\]\.resource nests attribute values deeper than 32/,
    );
  });

  it('shares one resource and one scope object among their spans, in whatever order the fields come', () => {
    const input = body(
      message(
        1,
        message(
          2,
          span(bytes(2, hex('0000000000000001'))),
          message(1, bytes(2, '1.0'), bytes(1, 'lib')),
          span(bytes(2, hex('0000000000000002'))),
        ),
        message(1, keyValue(1, 'service.name', bytes(1, 'api'))),
        message(2, message(1, bytes(1, 'other')), span()),
      ),
      message(1, message(1, keyValue(1, 'service.name', bytes(1, 'worker'))), message(2, span())),
    );
    const spans = decodeProtobufTraces(input);
    assert.deepEqual(
      spans.map((record) => [record.spanId, record.resource, record.scope]),
      [
        ['0000000000000001', { 'service.name': 'api' }, { name: 'lib', version: '1.0' }],
        ['0000000000000002', { 'service.name': 'api' }, { name: 'lib', version: '1.0' }],
        [SPAN, { 'service.name': 'api' }, { name: 'other' }],
        [SPAN, { 'service.name': 'worker' }, { name: '' }],
      ],
    );
    assert.equal(spans[0]!.resource, spans[2]!.resource);
    assert.equal(spans[0]!.scope, spans[1]!.scope);
    assert.notEqual(spans[2]!.resource, spans[3]!.resource);
  });

  it('decodes events (sorted by time) and links with their attributes', () => {
    const record = decodesOne(
      request(
        span(
          message(11, fixed64(1, T0 + 5000n), bytes(2, 'late'), keyValue(3, 'n', int(3, 2))),
          message(11, fixed64(1, T0), bytes(2, 'early')),
          message(11, fixed64(1, T0 + 5000n), bytes(2, 'late too')),
          message(
            13,
            bytes(1, hex(TRACE.toUpperCase())),
            bytes(2, hex(PARENT)),
            bytes(3, 'k=v'),
            keyValue(4, 'why', bytes(1, 'retry')),
            fixed32(6, 1),
          ),
        ),
      ),
    );
    assert.deepEqual(record.events, [
      { timeUs: 1_790_000_000_123_456, name: 'early', attributes: {} },
      { timeUs: 1_790_000_000_123_461, name: 'late', attributes: { n: 2 } },
      { timeUs: 1_790_000_000_123_461, name: 'late too', attributes: {} },
    ]);
    assert.deepEqual(record.links, [{ traceId: TRACE, spanId: PARENT, attributes: { why: 'retry' } }]);
  });

  it('skips unknown fields of every wire type, groups included, in every message', () => {
    const unknown: Bytes = [
      ...int(90, 123456789),
      ...fixed64(91, 5n),
      ...fixed32(92, 7),
      ...bytes(93, 'junk'),
      ...group(94, int(1, 1), group(2, bytes(3, 'x')), fixed32(4, 0)),
    ];
    const input = body(
      unknown,
      message(
        1,
        unknown,
        message(1, unknown, keyValue(1, 'r', unknown, bytes(1, 'v')), int(2, 3)),
        bytes(3, 'https://opentelemetry.io/schemas/1.30.0'),
        message(
          2,
          unknown,
          message(1, unknown, bytes(1, 'lib'), message(3, bytes(1, 'scope.attr')), int(4, 0)),
          span(
            unknown,
            bytes(3, 'vendor=1'),
            int(10, 2),
            int(12, 1),
            int(14, 0),
            fixed32(16, 0x301),
            message(11, unknown, fixed64(1, T0), bytes(2, 'e'), int(4, 1)),
            message(13, unknown, bytes(1, hex(TRACE)), bytes(2, hex(SPAN)), int(5, 1)),
            message(15, unknown, int(1, 2), int(3, 1)),
            keyValue(9, 'a', unknown, message(5, unknown, message(1, unknown, int(3, 5)))),
          ),
        ),
      ),
    );
    const record = decodesOne(input);
    assert.deepEqual(record.resource, { r: 'v' });
    assert.deepEqual(record.scope, { name: 'lib' });
    assert.deepEqual(record.attributes, { a: [5] });
    assert.deepEqual(record.status, { code: 'ok' });
    assert.deepEqual(record.events, [{ timeUs: 1_790_000_000_123_456, name: 'e', attributes: {} }]);
    assert.deepEqual(record.links, [{ traceId: TRACE, spanId: SPAN, attributes: {} }]);
  });

  it('refuses malformed groups, wire types and tags, saying where', () => {
    refuses(body(tag(94, 3), int(1, 1)), /^Invalid OTLP protobuf body: group of field 94 has no end at byte 4$/);
    refuses(body(group(94), tag(95, 4)), /^Invalid OTLP protobuf body: unexpected end-group tag of field 95 at byte 4$/);
    refuses(body(tag(94, 3), tag(95, 4)), /end-group tag of field 95 closes another group at byte 2$/);
    refuses(body(Array.from({ length: 65 }, () => tag(90, 3)).flat()), /groups nested deeper than 64 at byte 128$/);
    refuses(body([0x0f]), /^Invalid OTLP protobuf body: invalid wire type 7 of field 1 at byte 0$/);
    refuses(body([0x00]), /^Invalid OTLP protobuf body: invalid field number 0 at byte 0$/);
    refuses(
      body(int(1, 5)),
      /^Invalid OTLP protobuf body: ExportTraceServiceRequest\.resource_spans \(field 1\) has wire type 0, expected 2 at byte 0$/,
    );
    refuses(request(message(2, int(5, 1))), /Span\.name \(field 5\) has wire type 0, expected 2/);
    refuses(request(span(bytes(7, 'x'))), /Span\.start_time_unix_nano \(field 7\) has wire type 2, expected 1/);
    refuses(request(span(keyValue(9, 'k', fixed64(3, 1n)))), /AnyValue\.int_value \(field 3\) has wire type 1, expected 0/);
    refuses(
      body([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
      /^Invalid OTLP protobuf body: varint longer than 10 bytes at byte 0$/,
    );
  });

  it('refuses the whole request when a span or link id is invalid', () => {
    const bad: [Bytes, RegExp][] = [
      [
        message(2, bytes(2, hex(SPAN))),
        /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId must be 16 bytes \(32 hex digits\) and not all zeros; received none: the request was refused/,
      ],
      [
        message(2, bytes(1, hex(TRACE.slice(2))), bytes(2, hex(SPAN))),
        /spans\[0\]\.traceId must be 16 bytes .* received "f7651916cd43dd8448eb211c80319c"/,
      ],
      [
        message(2, bytes(1, new Array(16).fill(0)), bytes(2, hex(SPAN))),
        /traceId must be 16 bytes \(32 hex digits\) and not all zeros; received "0{32}"/,
      ],
      [message(2, bytes(1, hex(TRACE))), /spans\[0\]\.spanId must be 8 bytes \(16 hex digits\) and not all zeros; received none/],
      [message(2, bytes(1, hex(TRACE)), bytes(2, new Array(8).fill(0))), /spanId must be 8 bytes/],
      [
        span(bytes(4, hex('00f067aa'))),
        /spans\[0\]\.parentSpanId must be 8 bytes \(16 hex digits\) and not all zeros; received "00f067aa"/,
      ],
      [span(bytes(4, new Array(8).fill(0))), /parentSpanId must be 8 bytes/],
      [span(message(13, bytes(1, hex(TRACE)))), /spans\[0\]\.links\[0\]\.spanId must be 8 bytes/],
    ];
    for (const [spanMessage, message] of bad) refuses(request(spanMessage), message);
  });

  it('throws only OtlpDecodeError for every truncation of a real body, and never returns a broken span', async () => {
    const input = protobufBody(await recordSpans(jobScenario));
    const full = decodeProtobufTraces(input);
    assert.equal(full.length, 6);
    let refused = 0;
    for (let length = 0; length < input.length; length++) {
      try {
        // A prefix can be a valid, shorter request (cut between two fields): then its spans must still be sound.
        const spans = decodeProtobufTraces(input.subarray(0, length));
        assertValidIds(spans);
        assert.ok(spans.length < full.length, `a prefix of ${length} bytes cannot hold every span`);
      } catch (error) {
        assert.ok(error instanceof OtlpDecodeError, `prefix of ${length} bytes: ${String(error)}`);
        refused++;
      }
    }
    assert.ok(refused > input.length / 2, `${refused} of ${input.length} prefixes refused`);
  });

  it('throws only OtlpDecodeError for random garbage and for a real body with corrupted bytes', async () => {
    const input = protobufBody(await recordSpans(jobScenario));
    let seed = 0x2545f491;
    const random = (): number => {
      // xorshift32: reproducible garbage.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const attempts: Uint8Array[] = [];
    for (let i = 0; i < 500; i++) attempts.push(Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
    for (let i = 0; i < 1500; i++) {
      const corrupted = Uint8Array.from(input);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--)
        corrupted[Math.floor(random() * corrupted.length)] = Math.floor(random() * 256);
      attempts.push(corrupted);
    }
    let decoded = 0;
    for (const attempt of attempts) {
      try {
        assertValidIds(decodeProtobufTraces(attempt));
        decoded++;
      } catch (error) {
        assert.ok(error instanceof OtlpDecodeError, String(error));
      }
    }
    // Some corruptions only change a value (a name's letter, a time): those still decode.
    assert.ok(decoded > 0 && decoded < attempts.length, `${decoded} of ${attempts.length} decoded`);
  });
});
