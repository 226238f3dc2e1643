/**
 * The trace pages over real HTTP: a dashboard with a real SQLite trace store, filled through
 * `store.write()` with spans from the test builder and spans recorded by the real OpenTelemetry SDK;
 * another dashboard without the `traces` option.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createClient, defineJob, silentLogger } from 'pilotlight';
import { createSqliteTraceStore } from '../src/traces/store/sqlite/create-sqlite-trace-store.ts';
import { byTestId, request, serve, squash, tempDir, tempStore, textOf } from './http-support.ts';
import { at, makeSpan, newTraceId } from './traces/support/span-builder.ts';
import { expectedRecords, jobScenario, recordSpans } from './traces/support/real-spans.ts';

const store = tempStore();
const client = createClient({ store, logger: silentLogger });
const traceStore = createSqliteTraceStore({ path: join(tempDir(), 'traces.db') });
after(() => traceStore.close());
const { url } = await serve({
  store,
  basePath: '/admin/jobs',
  traces: { store: traceStore, externalUrl: 'http://localhost:16686/trace/{traceId}' },
});
const { url: plainUrl } = await serve({ store });

const job = defineJob('TenantService', (_args: { tenant: string }) => {});
const API = { 'service.name': 'tenants-api', 'process.pid': 100, 'host.name': 'web-1' };
const WORKER = { 'service.name': 'tenants-worker', 'process.pid': 200, 'host.name': 'worker-1' };
const STACK =
  'TypeError: storage not ready\n    at provisionTenant (file:///app/jobs.js:12:11)\n    at async run (file:///app/worker.js:40:5)';
const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>';

/** A job whose trace (created through its traceparent) is in the store: the request, the creation, two attempts, a transition, a database call. */
const tracedJobId = await client.enqueue(
  job,
  { tenant: 'acme' },
  { metadata: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` } },
);
const jobTrace = '1'.repeat(32);
const request_ = makeSpan({
  traceId: jobTrace,
  spanId: '2'.repeat(15) + '0',
  name: 'POST /api/tenants',
  kind: 'server',
  startUs: at(0),
  durationUs: 20_000,
  resource: API,
  scope: { name: '@opentelemetry/instrumentation-http' },
});
const enqueue = makeSpan({
  parent: request_,
  spanId: '2'.repeat(16),
  name: 'enqueue TenantService.provisionTenant',
  kind: 'producer',
  startUs: at(2),
  durationUs: 400,
  resource: API,
  attributes: { 'pilotlight.job.id': tracedJobId, 'pilotlight.job.type': 'TenantService', 'messaging.destination.name': 'default' },
  events: [{ timeUs: at(2.2), name: 'State Applied: Enqueued', attributes: { 'pilotlight.state.new': 'Enqueued' } }],
});
const failedAttempt = makeSpan({
  parent: enqueue,
  name: 'process TenantService.provisionTenant',
  kind: 'consumer',
  startUs: at(30),
  durationUs: 56_000,
  resource: WORKER,
  status: { code: 'error', message: 'storage not ready' },
  attributes: { 'pilotlight.job.id': tracedJobId, 'pilotlight.job.attempt': 1, 'error.type': 'TypeError' },
  events: [
    { timeUs: at(31), name: 'State Applied: Processing', attributes: { 'pilotlight.state.new': 'Processing' } },
    {
      timeUs: at(80),
      name: 'exception',
      attributes: { 'exception.type': 'TypeError', 'exception.message': 'storage not ready', 'exception.stacktrace': STACK },
    },
  ],
  links: [{ traceId: jobTrace, spanId: enqueue.spanId, attributes: {} }],
});
const dbCall = makeSpan({
  parent: failedAttempt,
  name: 'db.insert tenants',
  kind: 'client',
  startUs: at(32),
  durationUs: 900,
  resource: WORKER,
});
const transition = makeSpan({
  parent: enqueue,
  name: 'transition TenantService.provisionTenant',
  startUs: at(600),
  resource: WORKER,
  attributes: { 'pilotlight.job.id': tracedJobId },
});
const retry = makeSpan({
  parent: enqueue,
  name: 'process TenantService.provisionTenant',
  kind: 'consumer',
  startUs: at(610),
  durationUs: 8_000,
  resource: WORKER,
  attributes: { 'pilotlight.job.id': tracedJobId, 'pilotlight.job.attempt': 2 },
});
/** From a process whose parent span never arrived. */
const orphan = {
  ...makeSpan({
    traceId: jobTrace,
    name: 'POST /storage/acme',
    kind: 'server',
    startUs: at(40),
    resource: { 'service.name': 'tenants-stub' },
  }),
  parentSpanId: 'f'.repeat(16),
};
const otherSpan = makeSpan({ name: 'GET /health', kind: 'server', startUs: at(5), resource: API });
const jobSpans = [request_, enqueue, failedAttempt, dbCall, transition, retry, orphan];

/** A job with a traceparent whose trace is not in the store. */
const missingTrace = 'c'.repeat(32);
const untracedJobId = await client.enqueue(
  job,
  { tenant: 'globex' },
  { metadata: { traceparent: `00-${missingTrace}-${'d'.repeat(16)}-01` } },
);
const noContextJobId = await client.enqueue(job, { tenant: 'initech' });

/** Hostile names and values, as any exporter may send them. */
const hostile = makeSpan({
  name: HOSTILE,
  startUs: at(3),
  resource: { 'service.name': `svc ${HOSTILE}` },
  attributes: { [`key ${HOSTILE}`]: HOSTILE, nested: { html: HOSTILE }, 'pilotlight.job.id': `"><script>1</script>` },
  status: { code: 'error', message: HOSTILE },
  events: [
    {
      timeUs: at(3),
      name: 'exception',
      attributes: { 'exception.type': HOSTILE, 'exception.message': HOSTILE, 'exception.stacktrace': HOSTILE },
    },
  ],
});

/** Task spans: one of each final status, and a type of its own. */
const task = (status: string, type: string, extra: Record<string, string> = {}, ms = 100) =>
  makeSpan({
    name: `BackgroundTask.${type}`,
    startUs: at(ms),
    durationUs: 12_500,
    resource: API,
    scope: { name: 'pilotlight.tasks' },
    status: status === 'Completed' ? { code: 'ok' } : { code: 'error', message: status === 'Failed' ? 'disk full' : 'Task was cancelled' },
    attributes: {
      'task.type': type,
      'task.name': `${type} run`,
      'task.status': status,
      'task.duration_ms': 12_543.5,
      'task.id': `t-${status}`,
      ...extra,
    },
  });
const tasks = [
  task('Completed', 'MetadataScanTask', {}, 100),
  task('Failed', 'MetadataScanTask', { 'exception.type': 'Error', 'exception.message': 'disk full on /library' }, 101),
  task('Cancelled', 'ThumbnailTask', {}, 102),
];

/** 60 recent traces of one service, for paging (50 a page). */
const bulk = Array.from({ length: 60 }, (_, i) =>
  makeSpan({ name: `GET /bulk/${i}`, kind: 'server', startUs: at(10_000 + i), resource: { 'service.name': 'bulk-service' } }),
);

/** Spans recorded by the real SDK (the decoder's expectations of them: what the receiver stores). */
const real = expectedRecords(await recordSpans(jobScenario, { resource: { 'service.name': 'real-sdk', 'process.pid': 4242 } }));

await traceStore.write([...jobSpans, otherSpan, hostile, ...tasks, ...bulk, ...real]);

async function get(base: string, path: string, status = 200): Promise<string> {
  const response = await request(base + path);
  assert.equal(response.status, status, `GET ${path}: ${textOf(response.body).slice(0, 400)}`);
  assert.match(String(response.headers['content-type']), /^text\/html; charset=utf-8/);
  return squash(response.body);
}

function rowSpanIds(body: string): string[] {
  return [...body.matchAll(/data-testid="span-row" data-span-id="([^"]*)"/g)].map((match) => match[1]!);
}

describe("a job's trace", () => {
  it('shows the whole trace as a waterfall in tree order, the job’s spans highlighted, with links to the trace and Jaeger', async () => {
    const body = await get(url, `/jobs/${tracedJobId}`);
    assert.deepEqual(
      rowSpanIds(body),
      [request_, enqueue, failedAttempt, dbCall, transition, retry, orphan].map((span) => span.spanId),
    );
    const depths = [...body.matchAll(/data-testid="span-row" data-span-id="[^"]*" data-depth="(\d+)"/g)].map((match) => Number(match[1]));
    assert.deepEqual(depths, [0, 1, 2, 3, 2, 2, 0]);
    const highlighted = [...body.matchAll(/data-span-id="([^"]*)" data-depth="\d+" data-job-span/g)].map((match) => match[1]);
    assert.deepEqual(highlighted, [enqueue.spanId, failedAttempt.spanId, transition.spanId, retry.spanId]);
    assert.deepEqual(byTestId(body, 'missing-parent'), [`parent span ${'f'.repeat(16)} not received`]);
    assert.deepEqual(byTestId(body, 'trace-link'), [`Trace ${jobTrace}`]);
    assert.match(body, new RegExp(`href="/admin/jobs/traces/${jobTrace}" data-testid="trace-link"`));
    assert.match(
      body,
      new RegExp(
        `href="http://localhost:16686/trace/${jobTrace}" rel="noreferrer" data-testid="external-trace-link">Open in localhost:16686`,
      ),
    );
    assert.doesNotMatch(body, /style=/, 'no inline style: the CSP forbids it');
  });

  it('each row opens to the span’s attributes, resource, events (an exception with its stack), links and scope', async () => {
    const body = await get(url, `/jobs/${tracedJobId}`);
    const row = body.slice(body.indexOf(`id="span-${failedAttempt.spanId}"`));
    const details = textOf(row.slice(0, row.indexOf('</details>')));
    assert.match(details, /tenants-worker process TenantService\.provisionTenant consumer storage not ready Error 56\.0 ms/);
    assert.match(details, new RegExp(`Job Job ${tracedJobId} Span ${failedAttempt.spanId}`));
    assert.match(details, /Attributes error\.type TypeError pilotlight\.job\.attempt 1 pilotlight\.job\.id \d+/, 'sorted, numbers as JSON');
    assert.match(details, /Resource host\.name worker-1 process\.pid 200 service\.name tenants-worker/);
    assert.match(
      details,
      /\+31\.0 ms State Applied: Processing pilotlight\.state\.new Processing \+80\.0 ms exception TypeError : storage not ready/,
    );
    assert.ok(details.includes(STACK.replace(/\s+/g, ' ')), 'the stack, in a <pre>');
    assert.match(row, /<pre class="code stack">TypeError: storage not ready/);
    assert.match(row, new RegExp(`href="/admin/jobs/traces/${jobTrace}#span-${enqueue.spanId}">span <code>${enqueue.spanId}`));
    assert.match(row, new RegExp(`href="/admin/jobs/jobs/${tracedJobId}" data-testid="span-job-link"`));
    assert.match(textOf(body.slice(body.indexOf(`id="span-${request_.spanId}"`))), /Scope @opentelemetry\/instrumentation-http/);
  });

  it('says plainly when the trace is not in the store, with its id and how to send it', async () => {
    const [trace] = byTestId(await get(url, `/jobs/${untracedJobId}`), 'trace');
    assert.match(trace!, new RegExp(`^Trace ${missingTrace} is not in the trace store \\(yet\\)`));
    assert.match(
      trace!,
      /OTEL_EXPORTER_OTLP_ENDPOINT= ?http:\/\/<this host> ?\/admin\/jobs \(the exporters post to \/admin\/jobs\/v1\/traces ?\)/,
    );
  });

  it('without the traces option, gives the trace id and how to turn traces on; without a trace context, says so', async () => {
    const [trace] = byTestId(await get(plainUrl, `/jobs/${untracedJobId}`), 'trace');
    assert.match(
      trace!,
      new RegExp(
        `^Trace ${missingTrace} \\(created in span ${'d'.repeat(16)} ?\\)\\. To see it here.*createDashboard\\(\\{ traces: \\{ store \\} \\}\\)`,
      ),
    );
    assert.deepEqual(byTestId(await get(url, `/jobs/${noContextJobId}`), 'trace'), [
      'No trace context was stored with this job: no OpenTelemetry SDK was recording (or tracing was off) when it was created.',
    ]);
  });
});

describe('a trace', () => {
  it('sums it up (root, services in order, spans, errors) above its waterfall', async () => {
    const body = await get(url, `/traces/${jobTrace}`);
    assert.deepEqual(byTestId(body, 'trace-root'), ['POST /api/tenants']);
    assert.deepEqual(byTestId(body, 'trace-services'), ['tenants-api tenants-worker tenants-stub']);
    assert.match(body, /class="svc svc-0" title="tenants-api"[^>]*>tenants-api<\/span><span class="svc svc-1" title="tenants-worker"/);
    assert.deepEqual(byTestId(body, 'trace-span-count'), ['7']);
    assert.deepEqual(byTestId(body, 'trace-errors'), ['1 span']);
    assert.equal(rowSpanIds(body).length, 7);
    assert.doesNotMatch(body, /data-job-span/, 'nothing highlighted outside a job page');
  });

  it('shows spans the real SDK recorded, with their links and typed attributes', async () => {
    const traceId = real[0]!.traceId;
    const body = await get(url, `/traces/${traceId}`);
    assert.equal(rowSpanIds(body).length, real.length);
    assert.match(textOf(body), /tenant\.tags \["eu","beta"\]/);
    assert.match(textOf(body), /tenant\.trial true/);
    assert.match(textOf(body), /exception TypeError : storage not ready/);
  });

  it('shows a trace thousands of spans deep, the first 5,000 spans, saying so; indentation stops at 16 levels, the depth said', async () => {
    const chain = [makeSpan({ name: 'deep root', startUs: at(50_000), durationUs: 10_000_000 })];
    for (let i = 1; i <= 5_000; i++) chain.push(makeSpan({ parent: chain[i - 1]!, name: `level ${i}`, startUs: at(50_000 + i) }));
    await traceStore.write(chain);
    const body = await get(url, `/traces/${chain[0]!.traceId}`);
    assert.equal(rowSpanIds(body).length, 5_000);
    assert.deepEqual(byTestId(body, 'trace-truncated'), ['(showing the first 5,000 spans)']);
    const last = body.slice(body.indexOf(`id="span-${chain[4_999]!.spanId}"`));
    assert.match(last, /data-depth="4999"/);
    assert.equal((last.slice(0, last.indexOf('</summary>')).match(/class="wf-indent"/g) ?? []).length, 16);
    assert.match(last, /title="depth 4999">↳ 4999</);
  });

  it('answers 404 for a trace it does not hold, and 400 for a malformed id', async () => {
    assert.match(byTestId(await get(url, `/traces/${newTraceId()}`, 404), 'error-message')[0]!, /is not in the trace store/);
    assert.match(byTestId(await get(url, '/traces/not-a-trace', 400), 'error-message')[0]!, /A trace id is 32 hexadecimal digits/);
    await get(url, `/traces/${'0'.repeat(32)}`, 400);
  });
});

describe('the traces page', () => {
  it('lists recent traces (root spans only), newest first, with the service select and the six README queries', async () => {
    const body = await get(url, '/traces');
    const results = [...body.matchAll(/data-testid="span-result" data-trace-id="[^"]*" data-span-id="([^"]*)"/g)].map((m) => m[1]);
    assert.equal(results.length, 50);
    assert.ok(!results.includes(enqueue.spanId), 'no child span');
    assert.match(body, /<option value="tenants-api">tenants-api<\/option>/);
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Viewing traces'), readme.indexOf('## How Pilotlight compares'));
    const queries = [...section.matchAll(/\| `([^`]+)` \| `([^`]+)` \|/g)].flatMap((m) => [m[1]!, m[2]!]);
    assert.equal(queries.length, 6);
    const links = [...body.matchAll(/<a href="([^"]*)" title="[^"]*" data-testid="example-query"/g)].map((m) =>
      new URLSearchParams(m[1]!.replace(/&amp;/g, '&').split('?')[1]).get('q'),
    );
    assert.deepEqual(links.sort(), [...queries].sort());
  });

  it('runs the README queries as written', async () => {
    const spanIds = async (q: string) => {
      const body = await get(url, `/traces?q=${encodeURIComponent(q)}`);
      return [...body.matchAll(/data-testid="span-result" data-trace-id="[^"]*" data-span-id="([^"]*)"/g)].map((m) => m[1]);
    };
    assert.ok((await spanIds('name LIKE "process %" AND status = ERROR')).includes(failedAttempt.spanId));
    assert.ok(!(await spanIds('name LIKE "process %" AND status = ERROR')).includes(retry.spanId));
    assert.deepEqual(await spanIds('name LIKE "BackgroundTask.%" AND task.status = "Failed"'), [tasks[1]!.spanId]);
    assert.deepEqual(await spanIds('task.duration_ms > 300000'), []);
    assert.deepEqual((await spanIds('task.type = "MetadataScanTask"')).sort(), [tasks[0]!.spanId, tasks[1]!.spanId].sort());
    assert.ok((await spanIds('pilotlight.job.type = "TenantService"')).includes(enqueue.spanId));
  });

  it('links each result to its trace (at the span) and its job', async () => {
    const body = await get(url, `/traces?q=${encodeURIComponent(`trace = "${jobTrace}" AND kind = producer`)}`);
    assert.match(body, new RegExp(`href="/admin/jobs/traces/${jobTrace}#span-${enqueue.spanId}"`));
    assert.match(body, new RegExp(`href="/admin/jobs/jobs/${tracedJobId}" data-testid="result-job-link">Job ${tracedJobId}`));
    assert.match(byTestId(body, 'normalized-query')[0]!, new RegExp(jobTrace));
  });

  it('pages with "Older" (keyset) and back to "Newest"', async () => {
    const first = await get(url, '/traces?service=bulk-service');
    const names = (body: string) => [...body.matchAll(/title="(GET \/bulk\/\d+)"/g)].map((m) => m[1]);
    assert.deepEqual(
      names(first),
      Array.from({ length: 50 }, (_, i) => `GET /bulk/${59 - i}`),
    );
    const older = /<a href="([^"]*)" rel="next">Older<\/a>/.exec(first);
    assert.ok(older, 'an Older link');
    const second = await get(url.replace(/\/admin\/jobs$/, ''), older[1]!.replace(/&amp;/g, '&'));
    assert.deepEqual(
      names(second),
      Array.from({ length: 10 }, (_, i) => `GET /bulk/${9 - i}`),
    );
    assert.doesNotMatch(second, /rel="next"/);
    assert.match(second, /href="\/admin\/jobs\/traces\?service=bulk-service">Newest/);
  });

  it('keeps an invalid query in the form and shows the parser’s message (400), the page still usable', async () => {
    const q = 'status > ERROR';
    const body = await get(url, `/traces?q=${encodeURIComponent(q)}`, 400);
    assert.match(body, /name="q" value="status &gt; ERROR"/);
    assert.ok(byTestId(body, 'query-error')[0]!.length > 0);
    assert.match(body, /data-testid="example-query"/);
  });
});

describe('the tasks page', () => {
  it('lists the BackgroundTask spans: type, name, status, duration, exception, trace', async () => {
    const body = await get(url, '/tasks');
    const rows = byTestId(body, 'task-row');
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, /^ThumbnailTask ThumbnailTask run Cancelled 12\.5 s/);
    assert.match(rows[1]!, /^MetadataScanTask MetadataScanTask run Failed 12\.5 s .* disk full on \/library Trace$/);
    assert.match(body, new RegExp(`href="/admin/jobs/traces/${tasks[1]!.traceId}#span-${tasks[1]!.spanId}" data-testid="task-trace-link"`));
  });

  it('filters by status tab and by type', async () => {
    assert.deepEqual(byTestId(await get(url, '/tasks?status=Failed'), 'task-row').length, 1);
    assert.match(await get(url, '/tasks?status=Failed'), /aria-current="page">Failed/);
    assert.equal(byTestId(await get(url, '/tasks?type=ThumbnailTask'), 'task-row').length, 1);
    await get(url, '/tasks?status=Sleeping', 400);
  });
});

describe('without traces', () => {
  it('/traces and /tasks explain how to turn them on; the nav shows them only when configured', async () => {
    for (const path of ['/traces', '/tasks', `/traces/${jobTrace}`]) {
      assert.match(
        byTestId(await get(plainUrl, path), 'traces-off')[0]!,
        /createDashboard\(\{ store, traces: \{ store: createSqliteTraceStore/,
      );
    }
    assert.doesNotMatch(await get(plainUrl, '/'), />Traces<\/a>|>Tasks<\/a>/);
    assert.match(await get(url, '/'), /href="\/admin\/jobs\/traces">Traces<\/a><a href="\/admin\/jobs\/tasks">Tasks<\/a>/);
  });
});

describe('escaping', () => {
  it('never lets a span’s name, service, attributes, status or exception become markup', async () => {
    for (const path of [`/traces/${hostile.traceId}`, `/traces?q=${encodeURIComponent('status = ERROR')}`]) {
      const body = await get(url, path);
      assert.doesNotMatch(body, /<script>|<img/i, path);
      assert.match(body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/, path);
    }
    const body = await get(url, `/traces/${hostile.traceId}`);
    assert.match(body, /href="\/admin\/jobs\/jobs\/%22%3E%3Cscript%3E1%3C%2Fscript%3E"/, 'the job id only in a path segment, encoded');
    assert.match(textOf(body), /nested \{"html":"<script>/, 'a map attribute as JSON, escaped');
  });
});
