import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, ValidationError } from 'pilotlight';
import { TRACE_LIMITS } from '../../src/config/defaults.ts';
import type { SpanCondition } from '../../src/spans/conditions.ts';
import { formatTraceQuery, parseTraceQuery } from '../../src/traces/query/parse-query.ts';

/** parseTraceQuery(text) throws a ValidationError whose message is exactly `message`. */
function refuses(text: string, message: string): void {
  assert.throws(
    () => parseTraceQuery(text),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.equal(error.code, ErrorCodes.VALIDATION);
      assert.equal(error.message, message);
      return true;
    },
    text,
  );
}

/** The query parses to `conditions`, and its normalized form parses to them too. */
function parses(text: string, conditions: SpanCondition[], normalized?: string): void {
  assert.deepEqual(parseTraceQuery(text), conditions, text);
  const formatted = formatTraceQuery(conditions);
  if (normalized !== undefined) assert.equal(formatted, normalized, text);
  assert.deepEqual(parseTraceQuery(formatted), conditions, formatted);
}

describe('parseTraceQuery()', () => {
  it('runs every query of the README as written', () => {
    parses(
      'name LIKE "process %" AND status = ERROR',
      [
        { field: 'name', op: 'LIKE', value: 'process %' },
        { field: 'status', op: '=', value: 'error' },
      ],
      'name LIKE "process %" AND status = ERROR',
    );
    parses(
      'name LIKE "process %" AND duration > 5m',
      [
        { field: 'name', op: 'LIKE', value: 'process %' },
        { field: 'duration', op: '>', valueUs: 300_000_000 },
      ],
      'name LIKE "process %" AND duration > 5m',
    );
    parses('pilotlight.job.type = "TenantService"', [{ field: 'attribute', key: 'pilotlight.job.type', op: '=', value: 'TenantService' }]);
    parses('name LIKE "BackgroundTask.%" AND task.status = "Failed"', [
      { field: 'name', op: 'LIKE', value: 'BackgroundTask.%' },
      { field: 'attribute', key: 'task.status', op: '=', value: 'Failed' },
    ]);
    parses('name LIKE "BackgroundTask.%" AND task.duration_ms > 300000', [
      { field: 'name', op: 'LIKE', value: 'BackgroundTask.%' },
      { field: 'attribute', key: 'task.duration_ms', op: '>', value: 300000 },
    ]);
    parses('task.type = "MetadataScanTask"', [{ field: 'attribute', key: 'task.type', op: '=', value: 'MetadataScanTask' }]);
    parses('pilotlight.queue.wait_ms > 60000', [{ field: 'attribute', key: 'pilotlight.queue.wait_ms', op: '>', value: 60000 }]);
    parses('name LIKE "process %" AND status = "Error"', [
      { field: 'name', op: 'LIKE', value: 'process %' },
      { field: 'status', op: '=', value: 'error' },
    ]);
  });

  it('gives no condition for empty or blank text', () => {
    assert.deepEqual(parseTraceQuery(''), []);
    assert.deepEqual(parseTraceQuery(' \t\n '), []);
    assert.equal(formatTraceQuery([]), '');
  });

  it('takes every operator, keywords in any case, with or without spaces', () => {
    const ops = [
      ['=', '='],
      ['==', '='],
      ['!=', '!='],
      ['>', '>'],
      ['>=', '>='],
      ['<', '<'],
      ['<=', '<='],
    ] as const;
    for (const [written, op] of ops) {
      parses(`http.response.status_code ${written} 500`, [{ field: 'attribute', key: 'http.response.status_code', op, value: 500 }]);
      parses(`x${written}1`, [{ field: 'attribute', key: 'x', op, value: 1 }]);
      parses(`duration ${written} 2h`, [{ field: 'duration', op, valueUs: 7_200_000_000 }]);
    }
    for (const like of ['LIKE', 'like', 'Like']) parses(`name ${like} "a_%"`, [{ field: 'name', op: 'LIKE', value: 'a_%' }]);
    for (const notLike of ['NOT LIKE', 'not like', 'Not  Like']) {
      parses(`service ${notLike} "batch-%"`, [{ field: 'service', op: 'NOT LIKE', value: 'batch-%' }]);
      parses(`db.statement ${notLike} "SELECT %"`, [{ field: 'attribute', key: 'db.statement', op: 'NOT LIKE', value: 'SELECT %' }]);
    }
    parses('name = "a" and service != "b" AnD kind != client', [
      { field: 'name', op: '=', value: 'a' },
      { field: 'service', op: '!=', value: 'b' },
      { field: 'kind', op: '!=', value: 'client' },
    ]);
  });

  it('takes kinds and statuses by name in any case, quoted or not', () => {
    for (const kind of ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const) {
      parses(`kind = ${kind.toUpperCase()}`, [{ field: 'kind', op: '=', value: kind }], `kind = ${kind.toUpperCase()}`);
      parses(`kind = "${kind[0]!.toUpperCase()}${kind.slice(1)}"`, [{ field: 'kind', op: '=', value: kind }]);
    }
    for (const status of ['unset', 'ok', 'error'] as const) {
      parses(`status != ${status}`, [{ field: 'status', op: '!=', value: status }], `status != ${status.toUpperCase()}`);
    }
  });

  it('reads durations in every unit, a bare number being milliseconds', () => {
    const durations: [string, number, string][] = [
      ['5m', 300_000_000, '5m'],
      ['300ms', 300_000, '300ms'],
      ['1.5s', 1_500_000, '1500ms'],
      ['2h', 7_200_000_000, '2h'],
      ['250us', 250, '250us'],
      ['250µs', 250, '250us'],
      ['100ns', 0.1, '0.1us'],
      ['1500', 1_500_000, '1500ms'],
      ['90s', 90_000_000, '90s'],
      ['0', 0, '0us'],
      ['1e3ms', 1_000_000, '1s'],
    ];
    for (const [text, valueUs, normalized] of durations) {
      parses(`duration >= ${text}`, [{ field: 'duration', op: '>=', valueUs }], `duration >= ${normalized}`);
    }
  });

  it('reads numbers, booleans and strings of both quotes as attribute values', () => {
    const values: [string, string | number | boolean][] = [
      ['42', 42],
      ['-7', -7],
      ['3.25', 3.25],
      ['-0.5', -0.5],
      ['1e3', 1000],
      ['2.5E-2', 0.025],
      ['true', true],
      ['FALSE', false],
      ['"Failed"', 'Failed'],
      ["'Failed'", 'Failed'],
      ['"say \\"hi\\"\\n\\u00e9"', 'say "hi"\né'],
      ["'it\\'s \\\\ ok'", "it's \\ ok"],
      ['""', ''],
      ['"42"', '42'],
    ];
    for (const [text, value] of values) parses(`a.b = ${text}`, [{ field: 'attribute', key: 'a.b', op: '=', value }]);
  });

  it('takes quoted keys for odd characters and for keys named like a subject', () => {
    parses(
      '"http.route/v1" = "/tenants/:id"',
      [{ field: 'attribute', key: 'http.route/v1', op: '=', value: '/tenants/:id' }],
      '"http.route/v1" = "/tenants/:id"',
    );
    parses('"name" = "x"', [{ field: 'attribute', key: 'name', op: '=', value: 'x' }], '"name" = "x"');
    parses('"a b" != 3', [{ field: 'attribute', key: 'a b', op: '!=', value: 3 }]);
    parses('_private-key.x1 < 2', [{ field: 'attribute', key: '_private-key.x1', op: '<', value: 2 }], '_private-key.x1 < 2');
  });

  it('reads a trace id (trace or traceId), in any case', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    parses(`trace = ${id}`, [{ field: 'trace', op: '=', value: id }], `trace = ${id}`);
    parses(`traceId = ${id.toUpperCase()}`, [{ field: 'trace', op: '=', value: id }]);
    parses(`traceId == "${id}"`, [{ field: 'trace', op: '=', value: id }]);
  });

  it('round-trips a long mixed query', () => {
    const conditions: SpanCondition[] = [
      { field: 'name', op: 'NOT LIKE', value: 'GET /health%' },
      { field: 'service', op: '=', value: 'tenants-worker' },
      { field: 'kind', op: '=', value: 'consumer' },
      { field: 'status', op: '!=', value: 'ok' },
      { field: 'duration', op: '<', valueUs: 1.5 },
      { field: 'trace', op: '=', value: '0af7651916cd43dd8448eb211c80319c' },
      { field: 'attribute', key: 'pilotlight.job.attempt', op: '>=', value: 2 },
      { field: 'attribute', key: 'pilotlight.job.cancelled', op: '=', value: true },
      { field: 'attribute', key: 'error.type', op: 'LIKE', value: '%Error' },
      { field: 'attribute', key: 'weird "key"\\', op: '<=', value: -0 },
      { field: 'attribute', key: 'big', op: '>', value: 1e21 },
    ];
    const text = formatTraceQuery(conditions);
    assert.equal(
      text,
      'name NOT LIKE "GET /health%" AND service = "tenants-worker" AND kind = CONSUMER AND status != OK AND duration < 1.5us AND ' +
        'trace = 0af7651916cd43dd8448eb211c80319c AND pilotlight.job.attempt >= 2 AND pilotlight.job.cancelled = true AND ' +
        'error.type LIKE "%Error" AND "weird \\"key\\"\\\\" <= -0 AND big > 1e+21',
    );
    assert.deepEqual(parseTraceQuery(text), conditions);
  });

  it('refuses operators a subject does not take', () => {
    refuses('status > ERROR', 'Invalid trace query at column 1: status compares only with = or !=, not >');
    refuses('kind LIKE "S%"', 'Invalid trace query at column 1: kind compares only with = or !=, not LIKE');
    refuses('duration LIKE "x"', 'Invalid trace query at column 1: duration compares with =, !=, >, >=, < or <=, not LIKE');
    refuses('name > "a"', 'Invalid trace query at column 1: name compares with =, !=, LIKE or NOT LIKE, not >');
    refuses('a = 1 AND service <= "x"', 'Invalid trace query at column 11: service compares with =, !=, LIKE or NOT LIKE, not <=');
    refuses('trace != 4bf92f3577b34da6a3ce929d0e0e4736', 'Invalid trace query at column 1: trace compares only with =, not !=');
    refuses('flag > true', 'Invalid trace query at column 8: a boolean compares only with = or !=, not >');
    refuses('count LIKE 5', 'Invalid trace query at column 12: LIKE takes a quoted pattern ("process %"); received 5');
  });

  it('refuses values of the wrong kind, listing what is allowed', () => {
    refuses(
      'kind = banana',
      'Invalid trace query at column 8: kind is one of UNSPECIFIED, INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER; received banana',
    );
    refuses('status = "failed"', 'Invalid trace query at column 10: status is one of UNSET, OK, ERROR; received "failed"');
    refuses('name = process', 'Invalid trace query at column 8: name takes a quoted string ("process %"); received process');
    refuses(
      'duration > 5 minutes',
      'Invalid trace query at column 14: expected AND or the end of the query after a condition; received minutes',
    );
    refuses(
      'duration > 5min',
      'Invalid trace query at column 12: duration takes a duration like 5m, 1.5s, 300ms, 250us or 100ns (a bare number is milliseconds); received 5min',
    );
    refuses(
      'duration > -5m',
      'Invalid trace query at column 12: duration takes a duration like 5m, 1.5s, 300ms, 250us or 100ns (a bare number is milliseconds); received -5m',
    );
    refuses('duration > "5m"', 'Invalid trace query at column 12: duration takes an unquoted duration like 5m or 300ms; received "5m"');
    refuses('trace = 4bf92f35', 'Invalid trace query at column 9: trace takes a trace id of 32 hex digits; received 4bf92f35');
    refuses(
      'task.status = Failed',
      'Invalid trace query at column 15: task.status takes a quoted string, a number, true or false; received Failed (for text, write "Failed")',
    );
    refuses(
      'x = 1e999',
      'Invalid trace query at column 5: x takes a quoted string, a number, true or false; received 1e999 (for text, write "1e999")',
    );
  });

  it('refuses broken syntax, with the column', () => {
    refuses('name = "process', 'Invalid trace query at column 8: unterminated string: close it with "');
    refuses("a = 'x", "Invalid trace query at column 5: unterminated string: close it with '");
    refuses(
      'a = "bad \\q"',
      'Invalid trace query at column 5: invalid escape or control character in the string "bad \\q" (double-quoted strings take JSON escapes: \\" \\\\ \\n \\u00e9)',
    );
    refuses(
      'name = "a" garbage',
      'Invalid trace query at column 12: expected AND or the end of the query after a condition; received garbage',
    );
    refuses(
      'name = "a" OR name = "b"',
      'Invalid trace query at column 12: expected AND or the end of the query after a condition; received OR',
    );
    refuses('name = "a" AND', 'Invalid trace query at column 15: expected a condition after AND; received the end of the query');
    refuses(
      'name = "a" AND AND b = 1',
      'Invalid trace query at column 20: expected an operator (=, !=, >, >=, <, <=, LIKE, NOT LIKE) after AND; received b',
    );
    refuses(
      'name',
      'Invalid trace query at column 5: expected an operator (=, !=, >, >=, <, <=, LIKE, NOT LIKE) after name; received the end of the query',
    );
    refuses('name =', 'Invalid trace query at column 7: expected a value after name =; received the end of the query');
    refuses('name NOT "x"', 'Invalid trace query at column 10: expected LIKE after NOT; received "x"');
    refuses('a ! 1', 'Invalid trace query at column 3: "!" must be followed by "=" (write != for "not equal")');
    refuses(
      '= 1',
      'Invalid trace query at column 1: expected a condition (name, service, kind, status, duration, trace or an attribute key; a key of other characters in double quotes); received =',
    );
    refuses(
      '1abc = 2',
      'Invalid trace query at column 1: expected a condition (name, service, kind, status, duration, trace or an attribute key; a key of other characters in double quotes); received 1abc',
    );
    refuses('a = = 1', 'Invalid trace query at column 5: a takes a quoted string, a number, true or false; received =');
  });

  it(`refuses a query longer than ${TRACE_LIMITS.maxQueryLength} characters`, () => {
    const longest = `a = "${'x'.repeat(TRACE_LIMITS.maxQueryLength - 6)}"`;
    assert.equal(longest.length, TRACE_LIMITS.maxQueryLength);
    assert.equal(parseTraceQuery(longest).length, 1);
    refuses(
      `${longest} `,
      `A trace query is at most ${TRACE_LIMITS.maxQueryLength} characters; received ${TRACE_LIMITS.maxQueryLength + 1}: shorten it`,
    );
  });
});
