/**
 * What every `TraceStore` must do, run against the SQLite store (sqlite-trace-store.test.ts) and the
 * PostgreSQL store (postgres-trace-store.test.ts): the same spans, queries and answers on both.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from 'pilotlight';
import type { SpanCondition } from '../../src/spans/conditions.ts';
import type { Attributes, SpanRecord } from '../../src/spans/model.ts';
import type { SpanQuery, TraceStore } from '../../src/spans/trace-store.ts';
import { TRACE_LIMITS } from '../../src/config/defaults.ts';
import { at, makeSpan, newTraceId, WORKER_RESOURCE } from './support/span-builder.ts';

export type OpenTraceStore = () => Promise<{ store: TraceStore; cleanup(): Promise<void> }>;

const API_RESOURCE: Attributes = { 'service.name': 'api', 'process.pid': 77, 'host.name': 'api-host' };

/** Runs `test` on a fresh store, cleaned up after (closed first, whatever the test did). */
function storeIt(open: OpenTraceStore, title: string, test: (store: TraceStore) => Promise<void>): void {
  it(title, async () => {
    const { store, cleanup } = await open();
    try {
      await test(store);
    } finally {
      await store.close();
      await cleanup();
    }
  });
}

/** Every span matching `where`, newest first, in one page. */
async function find(store: TraceStore, where: readonly SpanCondition[], extra: Partial<SpanQuery> = {}): Promise<SpanRecord[]> {
  const page = await store.findSpans({ where, limit: 1000, scanLimit: 10_000, ...extra });
  assert.equal(page.next, undefined);
  return [...page.spans];
}

async function names(store: TraceStore, ...where: SpanCondition[]): Promise<string[]> {
  return (await find(store, where)).map((span) => span.name);
}

/** Follows `next` to the end; every page's spans in order, and the pages. */
async function allPages(
  store: TraceStore,
  query: Omit<SpanQuery, 'before'>,
): Promise<{ spans: SpanRecord[]; pages: number; stopped: number }> {
  const spans: SpanRecord[] = [];
  let before: string | undefined;
  let pages = 0;
  let stopped = 0;
  do {
    const page = await store.findSpans(before === undefined ? query : { ...query, before });
    assert.ok(page.spans.length <= query.limit);
    spans.push(...page.spans);
    pages++;
    if (page.scanStopped) stopped++;
    before = page.next;
    assert.ok(pages < 1000, 'paging never ends');
  } while (before !== undefined);
  return { spans, pages, stopped };
}

const ids = (spans: readonly SpanRecord[]): string[] => spans.map((span) => span.spanId);

/**
 * Spans of two services for the query tests, newest first: D, C, B, E, A. C (with D, its child) is
 * from `api`, the others from `worker`.
 */
function querySpans(): SpanRecord[] {
  const a = makeSpan({
    name: 'process TenantService',
    kind: 'consumer',
    status: { code: 'error', message: 'boom' },
    startUs: at(0),
    durationUs: 6 * 60_000_000,
    attributes: { 'task.status': 'Failed', 'task.duration_ms': 360_000, retry: true },
  });
  const e = makeSpan({ parent: a, name: 'Process upper', startUs: at(1), attributes: { 'process.pid': 99 } });
  const b = makeSpan({
    name: 'process Mailer',
    kind: 'consumer',
    status: { code: 'ok' },
    startUs: at(10),
    durationUs: 2_000_000,
    attributes: { 'task.status': 'Succeeded', 'task.duration_ms': 2000, retry: false },
  });
  const c = makeSpan({
    name: 'GET /tenants',
    kind: 'server',
    startUs: at(20),
    durationUs: 50_000,
    resource: API_RESOURCE,
    attributes: { 'http.route': '/tenants', 'http.response.status_code': 200 },
  });
  const d = makeSpan({
    parent: c,
    name: 'SELECT tenants',
    kind: 'client',
    status: { code: 'error', message: 'relation "tenants" does not exist' },
    startUs: at(21),
    durationUs: 5000,
    resource: API_RESOURCE,
    attributes: { 'db.system': 'postgresql', 'task.duration_ms': '360000' },
  });
  return [a, e, b, c, d];
}

export function describeTraceStoreContract(name: string, open: OpenTraceStore): void {
  describe(`TraceStore contract: ${name}`, () => {
    describe('write and getTrace', () => {
      storeIt(open, 'reads back every field of a span, every attribute type, its resource and scope', async (store) => {
        const root = makeSpan({
          name: 'process TenantService',
          kind: 'consumer',
          startUs: at(0),
          durationUs: 1_234_567,
          status: { code: 'error', message: 'Tenant 7 failed: “quota” exceeded' },
          attributes: {
            text: 'héllo \u{1F680} "quoted" \\ back',
            empty: '',
            int: 42,
            negative: -7,
            float: 0.1,
            big: '9007199254740993',
            yes: true,
            no: false,
            nothing: null,
            list: ['a', 1, true, null],
            nested: { inner: { deep: [1, 2] }, 'dotted.key': 'v' },
          },
          events: [
            { timeUs: at(1), name: 'State Applied', attributes: { 'pilotlight.state': 'Processing' } },
            { timeUs: at(2), name: 'exception', attributes: { 'exception.type': 'Error', 'exception.message': 'x\ny' } },
          ],
          links: [{ traceId: newTraceId(), spanId: 'cccccccccccccccc', attributes: { 'link.kind': 'continuation' } }],
          resource: { 'service.name': 'worker', 'process.pid': 4242, 'process.command_args': ['node', 'worker.js'] },
          scope: { name: 'pilotlight', version: '0.1.0' },
        });
        const child = makeSpan({
          parent: root,
          name: 'SELECT 1',
          kind: 'client',
          startUs: at(5),
          scope: { name: 'pg' },
          status: { code: 'ok' },
        });
        await store.write([child, root]);
        const trace = await store.getTrace(root.traceId, 10);
        assert.deepStrictEqual(trace, { spans: [root, child], truncated: false });
      });

      storeIt(open, 'replaces a span written again (an exporter retrying) instead of keeping two', async (store) => {
        const first = makeSpan({ name: 'first try', attributes: { attempt: 1 } });
        await store.write([first]);
        const retried: SpanRecord = { ...first, name: 'second try', attributes: { attempt: 2 }, status: { code: 'error', message: 'x' } };
        await store.write([retried]);
        // Twice in one write, too: the last wins.
        const third: SpanRecord = { ...first, name: 'third try' };
        await store.write([retried, third]);
        assert.deepStrictEqual((await store.getTrace(first.traceId, 10)).spans, [third]);
        assert.equal(await store.countSpans(), 1);
      });

      storeIt(open, 'getTrace returns a trace in start order, at most limit spans, truncated when there are more', async (store) => {
        const root = makeSpan({ startUs: at(0), name: 'root' });
        const spans = [at(4), at(2), at(3), at(1)].map((startUs, index) => makeSpan({ parent: root, startUs, name: `child ${index}` }));
        await store.write([...spans, root, makeSpan({ startUs: at(1), name: 'another trace' })]);
        const full = await store.getTrace(root.traceId, 5);
        assert.deepStrictEqual(
          full.spans.map((span) => span.name),
          ['root', 'child 3', 'child 1', 'child 2', 'child 0'],
        );
        assert.equal(full.truncated, false);
        const cut = await store.getTrace(root.traceId, 3);
        assert.deepStrictEqual(
          cut.spans.map((span) => span.name),
          ['root', 'child 3', 'child 1'],
        );
        assert.equal(cut.truncated, true);
        assert.deepStrictEqual(await store.getTrace(newTraceId(), 10), { spans: [], truncated: false });
        await assert.rejects(store.getTrace('not a trace id', 10), { code: ErrorCodes.VALIDATION });
      });

      storeIt(open, 'writes nothing for an empty batch and refuses what is not a span', async (store) => {
        await store.write([]);
        await assert.rejects(store.write([{ ...makeSpan(), startUs: 'soon' } as unknown as SpanRecord]), { code: ErrorCodes.VALIDATION });
        assert.equal(await store.countSpans(), 0);
      });
    });

    describe('findSpans conditions', () => {
      storeIt(open, 'name: =, !=, LIKE (prefix, infix, _), NOT LIKE, case-sensitive', async (store) => {
        await store.write(querySpans());
        assert.deepStrictEqual(await names(store, { field: 'name', op: '=', value: 'process Mailer' }), ['process Mailer']);
        assert.deepStrictEqual(await names(store, { field: 'name', op: '!=', value: 'process Mailer' }), [
          'SELECT tenants',
          'GET /tenants',
          'Process upper',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'name', op: 'LIKE', value: 'process %' }), [
          'process Mailer',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'name', op: 'LIKE', value: '%tenants' }), ['SELECT tenants', 'GET /tenants']);
        assert.deepStrictEqual(await names(store, { field: 'name', op: 'LIKE', value: '%Tenant%' }), ['process TenantService']);
        assert.deepStrictEqual(await names(store, { field: 'name', op: 'LIKE', value: 'process _ailer' }), ['process Mailer']);
        assert.deepStrictEqual(await names(store, { field: 'name', op: 'LIKE', value: 'process' }), []);
        assert.deepStrictEqual(await names(store, { field: 'name', op: 'NOT LIKE', value: 'process %' }), [
          'SELECT tenants',
          'GET /tenants',
          'Process upper',
        ]);
      });

      storeIt(open, 'LIKE takes only % and _ as wildcards, without an escape character', async (store) => {
        const literal = ['a*b', 'a?b', 'a[b]', 'a\\b', 'a%b', 'axb', 'ab', 'é*', '\u{10FFFF}x'];
        await store.write(literal.map((name, index) => makeSpan({ name, startUs: at(index) })));
        const like = async (value: string) => (await names(store, { field: 'name', op: 'LIKE', value })).sort();
        assert.deepStrictEqual(await like('a*b'), ['a*b']);
        assert.deepStrictEqual(await like('a?b'), ['a?b']);
        assert.deepStrictEqual(await like('a[b]'), ['a[b]']);
        assert.deepStrictEqual(await like('a\\b'), ['a\\b']);
        assert.deepStrictEqual(await like('a_b'), ['a%b', 'a*b', 'a?b', 'a\\b', 'axb'].sort());
        assert.deepStrictEqual(await like('a%b'), ['a%b', 'a*b', 'a?b', 'a\\b', 'axb', 'ab'].sort());
        assert.deepStrictEqual(await like('é%'), ['é*']);
        assert.deepStrictEqual(await like('\u{10FFFF}%'), ['\u{10FFFF}x']);
        assert.deepStrictEqual(await like('A%'), []);
      });

      storeIt(open, 'service, kind and status', async (store) => {
        await store.write(querySpans());
        assert.deepStrictEqual(await names(store, { field: 'service', op: '=', value: 'api' }), ['SELECT tenants', 'GET /tenants']);
        assert.deepStrictEqual(await names(store, { field: 'service', op: '!=', value: 'api' }), [
          'process Mailer',
          'Process upper',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'service', op: 'LIKE', value: 'wor%' }), [
          'process Mailer',
          'Process upper',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'service', op: 'NOT LIKE', value: 'wor%' }), ['SELECT tenants', 'GET /tenants']);
        assert.deepStrictEqual(await names(store, { field: 'kind', op: '=', value: 'consumer' }), [
          'process Mailer',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'kind', op: '!=', value: 'consumer' }), [
          'SELECT tenants',
          'GET /tenants',
          'Process upper',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'status', op: '=', value: 'error' }), [
          'SELECT tenants',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'status', op: '!=', value: 'error' }), [
          'GET /tenants',
          'process Mailer',
          'Process upper',
        ]);
        assert.deepStrictEqual(
          await names(store, { field: 'service', op: '=', value: 'worker' }, { field: 'status', op: '=', value: 'error' }),
          ['process TenantService'],
        );
      });

      storeIt(open, 'duration ranges and trace', async (store) => {
        const spans = querySpans();
        await store.write(spans);
        const duration = (op: '=' | '!=' | '>' | '>=' | '<' | '<=', valueUs: number) => names(store, { field: 'duration', op, valueUs });
        assert.deepStrictEqual(await duration('>', 300_000_000), ['process TenantService']);
        assert.deepStrictEqual(await duration('>=', 2_000_000), ['process Mailer', 'process TenantService']);
        assert.deepStrictEqual(await duration('<', 5000), ['Process upper']);
        assert.deepStrictEqual(await duration('<=', 5000), ['SELECT tenants', 'Process upper']);
        assert.deepStrictEqual(await duration('=', 50_000), ['GET /tenants']);
        assert.deepStrictEqual(await duration('!=', 50_000), [
          'SELECT tenants',
          'process Mailer',
          'Process upper',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await names(store, { field: 'trace', op: '=', value: spans[3]!.traceId }), [
          'SELECT tenants',
          'GET /tenants',
        ]);
      });

      storeIt(open, 'attributes: strings as text, numbers as numbers, booleans, the resource when the span has none', async (store) => {
        await store.write(querySpans());
        const attribute = (key: string, op: (SpanCondition & { field: 'attribute' })['op'], value: string | number | boolean) =>
          names(store, { field: 'attribute', key, op, value });
        assert.deepStrictEqual(await attribute('task.status', '=', 'Failed'), ['process TenantService']);
        assert.deepStrictEqual(await attribute('task.status', '=', 'failed'), []);
        // != also matches the spans without the attribute.
        assert.deepStrictEqual(await attribute('task.status', '!=', 'Failed'), [
          'SELECT tenants',
          'GET /tenants',
          'process Mailer',
          'Process upper',
        ]);
        assert.deepStrictEqual(await attribute('task.status', '>', 'Q'), ['process Mailer']);
        // A number compares numerically and never matches a string attribute ('360000' on SELECT tenants).
        assert.deepStrictEqual(await attribute('task.duration_ms', '>', 300_000), ['process TenantService']);
        assert.deepStrictEqual(await attribute('task.duration_ms', '>=', 2000), ['process Mailer', 'process TenantService']);
        assert.deepStrictEqual(await attribute('task.duration_ms', '<', 10_000), ['process Mailer']);
        assert.deepStrictEqual(await attribute('task.duration_ms', '<=', 360_000), ['process Mailer', 'process TenantService']);
        assert.deepStrictEqual(await attribute('task.duration_ms', '=', 360_000), ['process TenantService']);
        assert.deepStrictEqual(await attribute('task.duration_ms', '=', '360000'), ['SELECT tenants']);
        assert.deepStrictEqual(await attribute('task.duration_ms', '!=', 360_000), [
          'SELECT tenants',
          'GET /tenants',
          'process Mailer',
          'Process upper',
        ]);
        assert.deepStrictEqual(await attribute('retry', '=', true), ['process TenantService']);
        assert.deepStrictEqual(await attribute('retry', '=', false), ['process Mailer']);
        assert.deepStrictEqual(await attribute('retry', '!=', true), ['SELECT tenants', 'GET /tenants', 'process Mailer', 'Process upper']);
        // process.pid: the resource's (4242, 77), but Process upper has its own.
        assert.deepStrictEqual(await attribute('process.pid', '=', 4242), ['process Mailer', 'process TenantService']);
        assert.deepStrictEqual(await attribute('process.pid', '=', 99), ['Process upper']);
        assert.deepStrictEqual(await attribute('process.pid', '=', 77), ['SELECT tenants', 'GET /tenants']);
        assert.deepStrictEqual(await attribute('host.name', 'LIKE', 'api-%'), ['SELECT tenants', 'GET /tenants']);
        assert.deepStrictEqual(await attribute('http.route', 'LIKE', '/ten%'), ['GET /tenants']);
        assert.deepStrictEqual(await attribute('http.route', 'LIKE', '/Ten%'), []);
        assert.deepStrictEqual(await attribute('http.route', 'NOT LIKE', '/ten%'), [
          'SELECT tenants',
          'process Mailer',
          'Process upper',
          'process TenantService',
        ]);
        assert.deepStrictEqual(await attribute('nope.missing', '=', 'x'), []);
        assert.deepStrictEqual((await attribute('nope.missing', '!=', 'x')).length, 5);
        assert.deepStrictEqual(
          await names(
            store,
            { field: 'attribute', key: 'task.status', op: '!=', value: 'Failed' },
            { field: 'service', op: '=', value: 'worker' },
          ),
          ['process Mailer', 'Process upper'],
        );
      });

      storeIt(open, 'attribute keys are whole keys, quotes and backslashes included', async (store) => {
        await store.write([
          makeSpan({ name: 'odd keys', attributes: { 'a"b': 1, 'c\\d': 2, '$.x': 3, nested: { key: 4 }, 'nested.key': 5 } }),
        ]);
        for (const [key, value] of [
          ['a"b', 1],
          ['c\\d', 2],
          ['$.x', 3],
          ['nested.key', 5],
        ] as const) {
          assert.deepStrictEqual(await names(store, { field: 'attribute', key, op: '=', value }), ['odd keys'], key);
        }
        assert.deepStrictEqual(await names(store, { field: 'attribute', key: 'nested.key', op: '=', value: 4 }), []);
      });

      storeIt(open, 'rootsOnly keeps the spans without a parent', async (store) => {
        await store.write(querySpans());
        assert.deepStrictEqual(
          (await find(store, [], { rootsOnly: true })).map((span) => span.name),
          ['GET /tenants', 'process Mailer', 'process TenantService'],
        );
        assert.deepStrictEqual(
          (await find(store, [{ field: 'status', op: '=', value: 'error' }], { rootsOnly: true })).map((span) => span.name),
          ['process TenantService'],
        );
      });

      storeIt(open, 'refuses a condition it cannot compare', async (store) => {
        for (const condition of [
          { field: 'attribute', key: 'x', op: 'LIKE', value: 5 },
          { field: 'attribute', key: 'x', op: '>', value: true },
          { field: 'kind', op: '=', value: 'sideways' },
          { field: 'duration', op: '>', valueUs: 1.5 },
          { field: 'colour', op: '=', value: 'red' },
        ]) {
          await assert.rejects(store.findSpans({ where: [condition as SpanCondition], limit: 10, scanLimit: 10 }), {
            code: ErrorCodes.VALIDATION,
          });
        }
      });
    });

    describe('findSpans pages', () => {
      storeIt(open, 'pages newest first with before, equal starts included, without duplicates or gaps', async (store) => {
        const spans = [
          ...Array.from({ length: 12 }, (_, index) => makeSpan({ name: `distinct ${index}`, startUs: at(index * 10) })),
          // Ten spans in one microsecond, across page boundaries.
          ...Array.from({ length: 10 }, (_, index) => makeSpan({ name: `same ${index}`, startUs: at(55) })),
        ];
        await store.write(spans.slice(0, 15));
        await store.write(spans.slice(15));
        const everything = await find(store, []);
        assert.equal(everything.length, 22);
        for (let index = 1; index < everything.length; index++) assert.ok(everything[index - 1]!.startUs >= everything[index]!.startUs);
        const paged = await allPages(store, { where: [], limit: 4, scanLimit: 1000 });
        assert.deepStrictEqual(ids(paged.spans), ids(everything));
        assert.equal(paged.pages, 6);
        assert.equal(paged.stopped, 0);
        const roots = await allPages(store, {
          where: [{ field: 'name', op: 'LIKE', value: 'same %' }],
          rootsOnly: true,
          limit: 3,
          scanLimit: 1000,
        });
        assert.deepStrictEqual(
          roots.spans.map((span) => span.name).sort(),
          Array.from({ length: 10 }, (_, index) => `same ${index}`).sort(),
        );
        assert.equal(new Set(ids(roots.spans)).size, 10);
      });

      storeIt(open, 'an attribute condition examines at most scanLimit spans a page, and next continues the scan', async (store) => {
        // Hits at 0, 7 and 14 of 20 spans.
        const spans = Array.from({ length: 20 }, (_, index) =>
          makeSpan({ name: `span ${index}`, startUs: at(index), attributes: { hit: index % 7 === 0 } }),
        );
        await store.write(spans);
        const hit: SpanCondition = { field: 'attribute', key: 'hit', op: '=', value: true };
        const first = await store.findSpans({ where: [hit], limit: 2, scanLimit: 5 });
        assert.deepStrictEqual(first.spans, []); // 19 to 15
        assert.equal(first.scanStopped, true);
        assert.ok(first.next !== undefined);
        const second = await store.findSpans({ where: [hit], limit: 2, scanLimit: 5, before: first.next });
        assert.deepStrictEqual(
          second.spans.map((span) => span.name),
          ['span 14'],
        );
        assert.equal(second.scanStopped, true);
        const scanned = await allPages(store, { where: [hit], limit: 2, scanLimit: 5 });
        assert.deepStrictEqual(
          scanned.spans.map((span) => span.name),
          ['span 14', 'span 7', 'span 0'],
        );
        assert.equal(scanned.stopped, 4);
        // With room to scan, a full page is not stopped.
        const wide = await store.findSpans({ where: [hit], limit: 2, scanLimit: 100 });
        assert.deepStrictEqual(
          wide.spans.map((span) => span.name),
          ['span 14', 'span 7'],
        );
        assert.equal(wide.scanStopped, false);
        const rest = await store.findSpans({ where: [hit], limit: 2, scanLimit: 100, before: wide.next });
        assert.deepStrictEqual(rest, { spans: [spans[0]], scanStopped: false });
      });

      storeIt(open, 'refuses a malformed cursor and bad limits', async (store) => {
        for (const before of ['', 'garbage', '1.', 'zzzzzzzzzzzzzzzz.1', '12.-3']) {
          await assert.rejects(store.findSpans({ where: [], limit: 10, scanLimit: 10, before }), { code: ErrorCodes.VALIDATION }, before);
        }
        await assert.rejects(store.findSpans({ where: [], limit: 0, scanLimit: 10 }), { code: ErrorCodes.VALIDATION });
        await assert.rejects(store.findSpans({ where: [], limit: 10, scanLimit: 0 }), { code: ErrorCodes.VALIDATION });
      });
    });

    describe('services, retention, counting, closing', () => {
      storeIt(open, 'listServices names every service once, sorted', async (store) => {
        assert.deepStrictEqual(await store.listServices(), []);
        await store.write(querySpans());
        await store.write([makeSpan({ resource: { 'service.name': 'Zeta' } }), makeSpan({ resource: {} })]);
        assert.deepStrictEqual(await store.listServices(), ['Zeta', 'api', 'unknown_service', 'worker']);
      });

      storeIt(open, 'prune deletes by age, then the oldest beyond maxSpans, and the resources left unused', async (store) => {
        await store.write([0, 1, 2, 3, 4].map((ms) => makeSpan({ startUs: at(ms), name: `worker ${ms}` })));
        await store.write([10, 11, 12].map((ms) => makeSpan({ startUs: at(ms), name: `api ${ms}`, resource: API_RESOURCE })));
        assert.equal(await store.countSpans(), 8);
        assert.equal(await store.prune({ olderThanUs: at(5), maxSpans: 100 }), 5);
        assert.equal(await store.countSpans(), 3);
        assert.deepStrictEqual(await store.listServices(), ['api']);
        assert.equal(await store.prune({ olderThanUs: at(5), maxSpans: 1 }), 2);
        assert.deepStrictEqual(
          (await find(store, [])).map((span) => span.name),
          ['api 12'],
        );
        assert.equal(await store.prune({ olderThanUs: at(5), maxSpans: 1 }), 0);
        assert.equal(await store.prune({ olderThanUs: at(100), maxSpans: 1 }), 1);
        assert.deepStrictEqual(await store.listServices(), []);
        // A resource comes back with its next span.
        const again = makeSpan({ startUs: at(200) });
        await store.write([again]);
        assert.deepStrictEqual((await store.getTrace(again.traceId, 1)).spans, [again]);
        await assert.rejects(store.prune({ olderThanUs: Number.NaN, maxSpans: 1 }), { code: ErrorCodes.VALIDATION });
      });

      storeIt(open, 'prune deletes a backlog larger than a batch', async (store) => {
        const total = TRACE_LIMITS.pruneBatchSpans * 2 + 10;
        const spans = Array.from({ length: total }, (_, index) => makeSpan({ startUs: at(index) }));
        for (let from = 0; from < total; from += 5000) await store.write(spans.slice(from, from + 5000));
        assert.equal(await store.countSpans(), total);
        assert.equal(await store.prune({ olderThanUs: at(TRACE_LIMITS.pruneBatchSpans * 2 + 5), maxSpans: 3 }), total - 3);
        assert.deepStrictEqual(ids(await find(store, [])), ids(spans.slice(-3).reverse()));
        assert.deepStrictEqual(await store.listServices(), ['worker']);
      });

      storeIt(open, 'every call after close rejects with StoreClosedError; close again is fine', async (store) => {
        await store.write([makeSpan()]);
        await store.close();
        await store.close();
        const closed = { code: ErrorCodes.STORE_CLOSED };
        await assert.rejects(store.write([makeSpan()]), closed);
        await assert.rejects(store.getTrace(newTraceId(), 1), closed);
        await assert.rejects(store.findSpans({ where: [], limit: 1, scanLimit: 1 }), closed);
        await assert.rejects(store.listServices(), closed);
        await assert.rejects(store.prune({ olderThanUs: 0, maxSpans: 0 }), closed);
        await assert.rejects(store.countSpans(), closed);
      });
    });
  });
}

export { API_RESOURCE, WORKER_RESOURCE };
