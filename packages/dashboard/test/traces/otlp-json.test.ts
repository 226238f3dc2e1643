/** The OTLP/JSON decoder on hand-written bodies: both spellings of the field names, enum names, int64 forms, wrong types. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from 'pilotlight';
import type { AttributeValue } from '../../src/spans/model.ts';
import { decodeJsonTraces } from '../../src/traces/otlp/decode-json.ts';
import { decodeTraces } from '../../src/traces/otlp/decode-traces.ts';
import { OtlpDecodeError } from '../../src/traces/otlp/otlp-decode-error.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

/** A request of one span: `span`'s fields over valid ids and times. */
function request(span: Record<string, unknown>): string {
  return JSON.stringify({
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: SPAN, startTimeUnixNano: '1790000000000000000', ...span }] }] }],
  });
}

/** decodeJsonTraces(text) throws an OtlpDecodeError whose message is exactly `message`. */
function refuses(text: string, message: string | RegExp): void {
  assert.throws(
    () => decodeJsonTraces(text),
    (error: unknown) => {
      assert.ok(error instanceof OtlpDecodeError, String(error));
      assert.equal(error.code, ErrorCodes.OTLP_INVALID);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
    text,
  );
}

const PATH = 'resourceSpans[0].scopeSpans[0].spans[0]';

describe('decodeJsonTraces()', () => {
  it('takes snake_case names, enum names, hex ids in any case, int64 as strings or numbers, and ignores unknown fields', () => {
    const text = JSON.stringify({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'tenants-worker' } }], dropped_attributes_count: 0 },
          schema_url: 'https://opentelemetry.io/schemas/1.30.0',
          scope_spans: [
            {
              scope: { name: 'pilotlight', version: '0.1.0', attributes: [], unknownScopeField: 1 },
              spans: [
                {
                  trace_id: TRACE.toUpperCase(),
                  span_id: 'B7AD6B7169203331',
                  parent_span_id: '00F067AA0BA902B7',
                  trace_state: 'vendor=1',
                  name: 'process TenantService.provisionTenant',
                  kind: 'SPAN_KIND_CONSUMER',
                  start_time_unix_nano: '1790000000123456789',
                  end_time_unix_nano: 1790000000223456000,
                  attributes: [
                    { key: 'int.string', value: { int_value: '-42' } },
                    { key: 'int.number', value: { intValue: 7 } },
                    { key: 'int.big', value: { intValue: '9223372036854775807' } },
                    { key: 'double', value: { double_value: 0.5 } },
                    { key: 'double.string', value: { doubleValue: '2.5' } },
                    { key: 'nan', value: { doubleValue: 'NaN' } },
                    { key: 'infinity', value: { doubleValue: '-Infinity' } },
                    { key: 'bool', value: { bool_value: false } },
                    { key: 'bytes', value: { bytes_value: 'AAEC-v8' } },
                    { key: 'array', value: { array_value: { values: [{ stringValue: 'a' }, {}, { intValue: 1 }] } } },
                    { key: 'list', value: { kvlist_value: { values: [{ key: 'k', value: { boolValue: true } }] } } },
                    { key: 'empty', value: {} },
                    { key: 'none' },
                    { key: 'nulls', value: { stringValue: null, intValue: 3 } },
                  ],
                  dropped_attributes_count: 1,
                  events: [
                    { time_unix_nano: '1790000000200000000', name: 'State Applied: Succeeded', attributes: [] },
                    {
                      time_unix_nano: '1790000000150000999',
                      name: 'exception',
                      attributes: [{ key: 'exception.type', value: { stringValue: 'Error' } }],
                    },
                  ],
                  links: [{ trace_id: TRACE, span_id: '00f067aa0ba902b7', trace_state: '', attributes: [], flags: 256 }],
                  status: { code: 'STATUS_CODE_ERROR', message: 'storage not ready' },
                  flags: 257,
                  somethingNew: { nested: true },
                },
              ],
            },
          ],
        },
      ],
    });
    const expected: Record<string, AttributeValue> = {
      'int.string': -42,
      'int.number': 7,
      'int.big': '9223372036854775807',
      double: 0.5,
      'double.string': 2.5,
      nan: NaN,
      infinity: -Infinity,
      bool: false,
      bytes: 'AAEC+v8=',
      array: ['a', null, 1],
      list: { k: true },
      empty: null,
      none: null,
      nulls: 3,
    };
    assert.deepEqual(decodeJsonTraces(text), [
      {
        traceId: TRACE,
        spanId: SPAN,
        parentSpanId: '00f067aa0ba902b7',
        name: 'process TenantService.provisionTenant',
        kind: 'consumer',
        startUs: 1_790_000_000_123_456,
        // A number of nanoseconds is already rounded by JSON.parse (1790000000223456000 is not a double): its µs are.
        endUs: 1_790_000_000_223_456,
        status: { code: 'error', message: 'storage not ready' },
        attributes: expected,
        events: [
          { timeUs: 1_790_000_000_150_000, name: 'exception', attributes: { 'exception.type': 'Error' } },
          { timeUs: 1_790_000_000_200_000, name: 'State Applied: Succeeded', attributes: {} },
        ],
        links: [{ traceId: TRACE, spanId: '00f067aa0ba902b7', attributes: {} }],
        resource: { 'service.name': 'tenants-worker' },
        scope: { name: 'pilotlight', version: '0.1.0' },
      },
    ]);
  });

  it('maps enum numbers and names, in any case, unknown ones to unspecified and unset', () => {
    const kindOf = (kind: unknown) => decodeJsonTraces(request({ kind }))[0]!.kind;
    assert.equal(kindOf(2), 'server');
    assert.equal(kindOf('SPAN_KIND_PRODUCER'), 'producer');
    assert.equal(kindOf('span_kind_client'), 'client');
    assert.equal(kindOf('SPAN_KIND_BANANA'), 'unspecified');
    assert.equal(kindOf('SERVER'), 'unspecified');
    assert.equal(kindOf(6), 'unspecified');
    assert.equal(kindOf(-1), 'unspecified');
    assert.equal(kindOf(null), 'unspecified');
    const statusOf = (status: unknown) => decodeJsonTraces(request({ status }))[0]!.status;
    assert.deepEqual(statusOf({ code: 1 }), { code: 'ok' });
    assert.deepEqual(statusOf({ code: 'STATUS_CODE_OK', message: '' }), { code: 'ok' });
    assert.deepEqual(statusOf({ code: 9, message: 'odd' }), { code: 'unset', message: 'odd' });
    assert.deepEqual(statusOf({}), { code: 'unset' });
    refuses(request({ kind: 1.5 }), `Invalid OTLP JSON body: ${PATH}.kind must be an integer or a name (SPAN_KIND_…); received 1.5`);
    refuses(
      request({ status: { code: true } }),
      `Invalid OTLP JSON body: ${PATH}.status.code must be an integer or a name (STATUS_CODE_…); received true`,
    );
  });

  it('keeps an end before the start at the start, and a root without a parent', () => {
    const [span] = decodeJsonTraces(request({ endTimeUnixNano: '1789999999000000000', parentSpanId: '' }));
    assert.equal(span!.startUs, 1_790_000_000_000_000);
    assert.equal(span!.endUs, 1_790_000_000_000_000);
    assert.ok(!('parentSpanId' in span!));
    assert.equal(decodeJsonTraces(request({ parentSpanId: null }))[0]!.parentSpanId, undefined);
  });

  it('decodes a request without spans', () => {
    assert.deepEqual(decodeJsonTraces('{}'), []);
    assert.deepEqual(decodeJsonTraces('{"resourceSpans":[]}'), []);
    assert.deepEqual(decodeJsonTraces('{"resourceSpans":[{"scopeSpans":[{}]}]}'), []);
  });

  it('refuses wrong JSON types, naming the path', () => {
    const valid = { traceId: TRACE, spanId: SPAN };
    const cases: [string, string][] = [
      ['', 'Invalid OTLP JSON body: Unexpected end of JSON input'],
      ['[]', 'Invalid OTLP JSON body: the body must be an object; received an array'],
      ['{"resourceSpans":{}}', 'Invalid OTLP JSON body: resourceSpans must be an array; received an object'],
      ['{"resourceSpans":[1]}', 'Invalid OTLP JSON body: resourceSpans[0] must be an object; received 1'],
      ['{"resourceSpans":[{"resource":"x"}]}', 'Invalid OTLP JSON body: resourceSpans[0].resource must be an object; received "x"'],
      [
        JSON.stringify({ resourceSpans: [{ scopeSpans: [{}, { spans: [valid, valid, valid, { ...valid, traceId: 5 }] }] }] }),
        'Invalid OTLP JSON body: resourceSpans[0].scopeSpans[1].spans[3].traceId must be a string; received 5',
      ],
      [request({ traceId: 5 }), `Invalid OTLP JSON body: ${PATH}.traceId must be a string; received 5`],
      [request({ spanId: 'xyz' }), `Invalid OTLP JSON body: ${PATH}.spanId must be hex digits; received "xyz"`],
      [request({ name: ['a'] }), `Invalid OTLP JSON body: ${PATH}.name must be a string; received an array`],
      [
        request({ startTimeUnixNano: '-1' }),
        `Invalid OTLP JSON body: ${PATH}.startTimeUnixNano must be unix nanoseconds (0 to 2^64 - 1); received "-1"`,
      ],
      [
        request({ startTimeUnixNano: '1.5e18' }),
        `Invalid OTLP JSON body: ${PATH}.startTimeUnixNano must be an integer (a decimal string or a number); received "1.5e18"`,
      ],
      [
        request({ endTimeUnixNano: 1.5 }),
        `Invalid OTLP JSON body: ${PATH}.endTimeUnixNano must be an integer (a decimal string or a number); received 1.5`,
      ],
      [request({ attributes: {} }), `Invalid OTLP JSON body: ${PATH}.attributes must be an array; received an object`],
      [request({ attributes: [{ key: 1 }] }), `Invalid OTLP JSON body: ${PATH}.attributes[0].key must be a string; received 1`],
      [
        request({ attributes: [{ key: 'a', value: 1 }] }),
        `Invalid OTLP JSON body: ${PATH}.attributes[0].value must be an object; received 1`,
      ],
      [
        request({ attributes: [{ key: 'a', value: { intValue: '12x' } }] }),
        `Invalid OTLP JSON body: ${PATH}.attributes[0].value.intValue must be an integer (a decimal string or a number); received "12x"`,
      ],
      [
        request({ attributes: [{ key: 'a', value: { intValue: '9223372036854775808' } }] }),
        `Invalid OTLP JSON body: ${PATH}.attributes[0].value.intValue must be an int64; received "9223372036854775808"`,
      ],
      [
        request({ attributes: [{ key: 'a', value: { boolValue: 'true' } }] }),
        `Invalid OTLP JSON body: ${PATH}.attributes[0].value.boolValue must be true or false; received "true"`,
      ],
      [
        request({ attributes: [{ key: 'a', value: { doubleValue: 'fast' } }] }),
        `Invalid OTLP JSON body: ${PATH}.attributes[0].value.doubleValue must be a number; received "fast"`,
      ],
      [
        request({ attributes: [{ key: 'a', value: { bytesValue: 'not base64!' } }] }),
        `Invalid OTLP JSON body: ${PATH}.attributes[0].value.bytesValue must be a base64 string; received "not base64!"`,
      ],
      [
        request({ attributes: [{ key: 'a', value: { arrayValue: [] } }] }),
        `Invalid OTLP JSON body: ${PATH}.attributes[0].value.arrayValue must be an object; received an array`,
      ],
      [
        request({ events: [{ name: 'e', timeUnixNano: true }] }),
        `Invalid OTLP JSON body: ${PATH}.events[0].timeUnixNano must be an integer (a decimal string or a number); received true`,
      ],
      [
        request({ links: [{ traceId: TRACE, spanId: '00' }] }),
        `${PATH}.links[0].spanId must be 8 bytes (16 hex digits) and not all zeros; received "00": the request was refused`,
      ],
      [request({ status: 'ERROR' }), `Invalid OTLP JSON body: ${PATH}.status must be an object; received "ERROR"`],
      [
        request({ traceId: '0'.repeat(32) }),
        `${PATH}.traceId must be 16 bytes (32 hex digits) and not all zeros; received "${'0'.repeat(32)}": the request was refused`,
      ],
    ];
    for (const [text, message] of cases) refuses(text, message);
  });

  it('refuses values nested deeper than 32 levels', () => {
    const nested = (depth: number): unknown => (depth === 1 ? { intValue: 1 } : { arrayValue: { values: [nested(depth - 1)] } });
    assert.equal(decodeJsonTraces(request({ attributes: [{ key: 'deep', value: nested(32) }] })).length, 1);
    refuses(
      request({ attributes: [{ key: 'deep', value: nested(33) }] }),
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value(\.arrayValue\.values\[0\]){32} nests attribute values deeper than 32 levels/,
    );
  });

  it('keeps a `__proto__` key as an attribute, not as the prototype', () => {
    const [span] = decodeJsonTraces(
      request({
        attributes: [
          { key: '__proto__', value: { stringValue: 'x' } },
          { key: 'polluted', value: { boolValue: true } },
        ],
      }),
    );
    assert.equal(Object.getPrototypeOf(span!.attributes), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(span!.attributes, '__proto__')?.value, 'x');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
  it('replaces NUL and lone surrogates with U+FFFD in every string, and keeps surrogate pairs', () => {
    const [span] = decodeJsonTraces(
      request({
        name: 'process\u0000Job',
        attributes: [
          { key: 'key\u0000', value: { stringValue: 'lone \ud800 high, lone \udc00 low, pair \ud83d\ude80' } },
          { key: 'list', value: { arrayValue: { values: [{ stringValue: '\u0000' }] } } },
        ],
        status: { code: 2, message: 'bad\udfff' },
      }),
    );
    assert.equal(span!.name, 'process\ufffdJob');
    assert.deepEqual(span!.attributes, { 'key\ufffd': 'lone \ufffd high, lone \ufffd low, pair \ud83d\ude80', list: ['\ufffd'] });
    assert.equal(span!.status.message, 'bad\ufffd');
  });
});

describe("decodeTraces(body, 'json')", () => {
  it('decodes UTF-8 (a byte order mark is ignored) and refuses other bytes', () => {
    const utf8 = new TextEncoder().encode(`\uFEFF${request({ name: 'café' })}`);
    assert.equal(decodeTraces(utf8, 'json')[0]!.name, 'café');
    assert.throws(
      () => decodeTraces(Uint8Array.from([0x7b, 0xff, 0x7d]), 'json'),
      (error: unknown) => error instanceof OtlpDecodeError && error.message === 'Invalid OTLP JSON body: it is not UTF-8 text',
    );
  });
});
