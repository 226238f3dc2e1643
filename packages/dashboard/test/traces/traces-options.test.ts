/**
 * `createDashboard({ traces })`: every mistake is a ValidationError naming the option and the value
 * received and saying what to pass; the defaults (7 days, 1,000,000 spans) apply when left out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, ValidationError } from 'pilotlight';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { resolveTraces } from '../../src/config/traces-options.ts';
import { createDashboard, type DashboardOptions } from '../../src/index.ts';
import { tempStore } from '../http-support.ts';
import { tempTraceStore } from './support/receiving.ts';

const jobs = tempStore();
const store = await tempTraceStore();

function refuses(traces: unknown, message: RegExp): void {
  assert.throws(
    () => createDashboard({ store: jobs, traces } as DashboardOptions),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.equal(error.code, ErrorCodes.VALIDATION);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('createDashboard() options.traces', () => {
  it('applies the defaults, and takes what is given', () => {
    assert.deepEqual(resolveTraces({ store }), {
      store,
      maxAgeMs: DEFAULTS.traces.maxAgeMs,
      maxSpans: DEFAULTS.traces.maxSpans,
      externalUrl: undefined,
    });
    assert.equal(DEFAULTS.traces.maxAgeMs, 7 * 24 * 3_600_000);
    assert.equal(DEFAULTS.traces.maxSpans, 1_000_000);
    const url = 'https://tempo.example.com/explore?trace={traceId}';
    assert.deepEqual(resolveTraces({ store, maxAgeMs: 3_600_000, maxSpans: 10, externalUrl: url }), {
      store,
      maxAgeMs: 3_600_000,
      maxSpans: 10,
      externalUrl: url,
    });
    assert.equal(resolveTraces(undefined), undefined);
  });

  it('must be an object with a TraceStore', () => {
    refuses(
      'traces.db',
      /^createDashboard\(\) options\.traces must be an object, \{ store: createSqliteTraceStore\(\{ path: 'traces\.db' \}\) \}, or left out; received "traces\.db"$/,
    );
    refuses(null, /options\.traces must be an object.*received null$/);
    refuses(
      {},
      /^createDashboard\(\) options\.traces\.store must be a TraceStore: createSqliteTraceStore\(\{ path: 'traces\.db' \}\) or createPostgresTraceStore\(\{ pool \}\); received undefined$/,
    );
    refuses(
      { store: jobs },
      /options\.traces\.store must be a TraceStore: .*; received an object \(it has no write, getTrace, findSpans, listServices, prune, countSpans\)$/,
    );
  });

  it('names an option it does not know', () => {
    refuses(
      { store, maxAge: 5 },
      /^createDashboard\(\) options\.traces has no option 'maxAge': its options are store, maxAgeMs, maxSpans, externalUrl$/,
    );
  });

  it('maxAgeMs and maxSpans: positive integers, the value named', () => {
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '7d', 2 ** 60]) {
      refuses(
        { store, maxAgeMs: value },
        /^createDashboard\(\) options\.traces\.maxAgeMs must be a positive integer \(ms\); received .+: pass a whole number from 1, or leave it out for 604800000$/,
      );
      refuses(
        { store, maxSpans: value },
        /^createDashboard\(\) options\.traces\.maxSpans must be a positive integer \(spans\); received .+: pass a whole number from 1, or leave it out for 1000000$/,
      );
    }
    refuses({ store, maxSpans: -5 }, /received -5:/);
    refuses({ store, maxAgeMs: '7d' }, /received "7d":/);
  });

  it('externalUrl: an http(s) URL containing {traceId}', () => {
    refuses(
      { store, externalUrl: 'http://localhost:16686/trace/' },
      /^createDashboard\(\) options\.traces\.externalUrl must be a URL containing \{traceId\}, which is replaced by the trace id; received "http:\/\/localhost:16686\/trace\/": pass a URL such as/,
    );
    refuses(
      { store, externalUrl: 'javascript:alert(1)//{traceId}' },
      /externalUrl must be an http:\/\/ or https:\/\/ URL; received "javascript:alert\(1\)\/\/\{traceId\}"/,
    );
    refuses({ store, externalUrl: '/trace/{traceId}' }, /externalUrl must be a valid URL/);
    refuses({ store, externalUrl: 42 }, /externalUrl must be a string; received 42/);
  });
});
