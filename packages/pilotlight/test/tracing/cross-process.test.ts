/**
 * One trace across two processes, end to end through real OpenTelemetry SDKs and OTLP/HTTP:
 *
 *   process A ('api')    POST /tenants        SERVER    (HTTP instrumentation)
 *                         └ enqueue TenantService.provisionTenant   PRODUCER  (tracing filter, client)
 *                              ~~ W3C context stored in the job's metadata, in the shared SQLite file ~~
 *   process B ('worker')     └ process TenantService.provisionTenant  CONSUMER  (tracing filter, worker)
 *                                 └ provision-database             INTERNAL  (the job's own span)
 *
 * Both children export to an OTLP/HTTP receiver running in this process; the test process itself
 * registers no OpenTelemetry SDK, so its HTTP request carries no trace context and the SERVER span
 * is the root.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild, type Child } from '../processes/fixtures/children.ts';
import { poll, sharedDb } from '../processes/fixtures/shared-db.ts';
import type { ApiProcessConfig } from './fixtures/api-process.ts';
import { OtlpSpanKind, startOtlpReceiver, type ReceivedSpan } from './fixtures/otlp-receiver.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

const JOB = 'TenantService.provisionTenant';
/** Generous: two Node processes starting and loading TypeScript on a loaded 2-core machine. */
const STEP_TIMEOUT = 60_000;

/** `startChild` resolves scripts next to itself; an absolute URL points it at this directory's fixtures. */
function fixture(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).href;
}

function describeSpans(spans: readonly ReceivedSpan[]): string {
  return spans
    .map((s) => {
      const events = s.events.map((e) => `\n      event '${e.name}' at span start ${formatMs(e.timeUnixNano - s.startTimeUnixNano)}`).join('');
      return `  ${s.resource['service.name']} ${s.scope} kind=${s.kind} '${s.name}' trace=${s.traceId} span=${s.spanId} parent=${s.parentSpanId ?? '-'}${events}`;
    })
    .join('\n');
}

function formatMs(nanos: bigint): string {
  const ms = Number(nanos) / 1e6;
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(1)} ms`;
}

/** The one span matching `predicate`; fails listing everything received otherwise. */
function single(spans: readonly ReceivedSpan[], what: string, predicate: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(predicate);
  assert.equal(found.length, 1, `expected exactly one ${what}, found ${found.length}; received:\n${describeSpans(spans)}`);
  return found[0]!;
}

test('a job enqueued by an HTTP request in one process and run by a worker in another continues the request’s trace', { timeout: 240_000 }, async (t) => {
  const db = sharedDb(); // creates the SQLite file (and its schema) before any child opens it
  const receiver = await startOtlpReceiver();
  after(() => receiver.close());

  const worker = startChild('worker', fixture('worker-process.ts'), { dbPath: db.dbPath, otlpUrl: receiver.url, pollInterval: 100 } satisfies WorkerProcessConfig);
  const api = startChild('api', fixture('api-process.ts'), { dbPath: db.dbPath, otlpUrl: receiver.url } satisfies ApiProcessConfig);
  const [{ serverName }, { port }] = await Promise.all([
    worker.message<{ serverName: string }>('ready', STEP_TIMEOUT),
    api.message<{ port: number }>('ready', STEP_TIMEOUT),
  ]);

  // A plain request: this process has no OpenTelemetry SDK, so no traceparent header is sent.
  const tenantId = `tenant-${process.pid}-${Date.now()}`;
  const response = await fetch(`http://127.0.0.1:${port}/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId }),
    signal: AbortSignal.timeout(STEP_TIMEOUT),
  });
  const responseText = await response.text();
  assert.equal(response.status, 202, `POST /tenants answered ${response.status}: ${responseText}; api output:\n${api.output()}`);
  const { jobId } = JSON.parse(responseText) as { jobId: string };
  assert.equal(typeof jobId, 'string');

  const job = await poll(async () => {
    const current = await db.client.getJob(jobId);
    if (current?.state === 'Failed') throw new Error(`job ${jobId} failed: ${JSON.stringify(current)}\nworker output:\n${worker.output()}`);
    return current?.state === 'Succeeded' ? current : undefined;
  }, `job ${jobId} to succeed`, STEP_TIMEOUT, 50);
  assert.equal(job.type, 'TenantService');
  assert.equal(job.method, 'provisionTenant');
  assert.deepEqual(job.args, [tenantId]);

  // The four spans are exported as they end (SimpleSpanProcessor); the CONSUMER span ends just
  // after the Succeeded state is stored, so it may still be on its way.
  const expected = ['POST', `enqueue ${JOB}`, `process ${JOB}`, 'provision-database'];
  await poll(
    () => expected.every((name) => receiver.spans().some((span) => span.name.startsWith(name))),
    `the spans ${expected.join(', ')} to reach the receiver`,
    STEP_TIMEOUT,
    50,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; received:\n${describeSpans(receiver.spans())}\napi output:\n${api.output()}\nworker output:\n${worker.output()}`);
  });

  // Stop both children cleanly: each flushes and shuts its provider down, so after this the
  // receiver holds everything either process will ever export.
  await Promise.all([stopChild(api, STEP_TIMEOUT), stopChild(worker, STEP_TIMEOUT)]);
  for (const child of [api, worker] satisfies Child[]) assertNoEngineErrors(child); // includes OpenTelemetry's diag warnings and errors
  assert.deepEqual(receiver.errors(), [], 'the receiver understood every export');

  const spans = receiver.spans();
  t.diagnostic(`received:\n${describeSpans(spans)}`);

  // --- One trace, four spans, two processes ---------------------------------------------------
  const traceIds = new Set(spans.map((span) => span.traceId));
  assert.equal(traceIds.size, 1, `every exported span belongs to one trace; received:\n${describeSpans(spans)}`);
  assert.equal(spans.length, 4, `exactly four spans were exported; received:\n${describeSpans(spans)}`);
  const [traceId] = traceIds;
  assert.match(traceId!, /^[0-9a-f]{32}$/);
  assert.notEqual(traceId, '0'.repeat(32));

  const server = single(spans, 'HTTP SERVER span', (s) => s.kind === OtlpSpanKind.SERVER);
  const producer = single(spans, `'enqueue ${JOB}' span`, (s) => s.name === `enqueue ${JOB}`);
  const consumer = single(spans, `'process ${JOB}' span`, (s) => s.name === `process ${JOB}`);
  const provision = single(spans, "'provision-database' span", (s) => s.name === 'provision-database');
  assert.equal(new Set(spans.map((s) => s.spanId)).size, 4, 'span ids are distinct');

  // Each side exported from its own process: resources say which.
  for (const [span, service, child] of [
    [server, 'api', api],
    [producer, 'api', api],
    [consumer, 'worker', worker],
    [provision, 'worker', worker],
  ] as const) {
    assert.equal(span.resource['service.name'], service, `'${span.name}' was exported by service '${service}'`);
    assert.equal(span.resource['process.pid'], child.pid, `'${span.name}' was exported by the ${service} process (pid ${child.pid})`);
  }
  assert.notEqual(api.pid, worker.pid);
  assert.notEqual(api.pid, process.pid);

  // --- SERVER: POST /tenants, the root ----------------------------------------------------------
  assert.ok(server.name.startsWith('POST'), `server span name '${server.name}' starts with POST`);
  assert.equal(server.scope, '@opentelemetry/instrumentation-http');
  assert.equal(server.parentSpanId, undefined, 'the SERVER span is the root (the test sent no trace context)');
  assert.equal(server.attributes['http.response.status_code'] ?? server.attributes['http.status_code'], 202, 'the SERVER span records the 202');

  // --- PRODUCER: enqueue, child of the SERVER span, in process A ----------------------------------
  assert.equal(producer.kind, OtlpSpanKind.PRODUCER);
  assert.equal(producer.scope, 'pilotlight');
  assert.equal(producer.parentSpanId, server.spanId, 'the PRODUCER span is a child of the SERVER span');
  assert.deepEqual(
    pick(producer.attributes, [
      'messaging.system',
      'messaging.operation.type',
      'messaging.operation.name',
      'messaging.destination.name',
      'messaging.message.id',
      'pilotlight.job.type',
      'pilotlight.job.method',
      'pilotlight.job.id',
    ]),
    {
      'messaging.system': 'pilotlight',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'enqueue',
      'messaging.destination.name': 'default',
      'messaging.message.id': jobId,
      'pilotlight.job.type': 'TenantService',
      'pilotlight.job.method': 'provisionTenant',
      'pilotlight.job.id': jobId,
    },
  );
  assert.equal(producer.status.code, 0, 'the PRODUCER span is not an error');
  const enqueued = stateEvents(producer);
  assert.deepEqual(enqueued.map((e) => e.name), ['State Applied: Enqueued'], 'the PRODUCER span records the initial state');
  assert.equal(enqueued[0]!.attributes['pilotlight.state.new'], 'Enqueued');
  assertWithin(producer, server, 'the enqueue happened within the request');

  // The hand-over between the processes: the PRODUCER span's W3C context, stored with the job.
  assert.equal(job.metadata.traceparent, `00-${traceId}-${producer.spanId}-01`, 'the job stores the PRODUCER span’s traceparent');

  // --- CONSUMER: the attempt, child of the PRODUCER span, in process B -----------------------------
  assert.equal(consumer.kind, OtlpSpanKind.CONSUMER);
  assert.equal(consumer.scope, 'pilotlight');
  assert.equal(consumer.parentSpanId, producer.spanId, 'the CONSUMER span is a child of the PRODUCER span (parenting: child)');
  assert.deepEqual(
    pick(consumer.attributes, [
      'messaging.system',
      'messaging.operation.type',
      'messaging.operation.name',
      'messaging.destination.name',
      'messaging.message.id',
      'messaging.client.id',
      'pilotlight.server.name',
      'pilotlight.job.type',
      'pilotlight.job.method',
      'pilotlight.job.id',
      'pilotlight.job.attempt',
      'pilotlight.retry.count',
    ]),
    {
      'messaging.system': 'pilotlight',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'default',
      'messaging.message.id': jobId,
      'messaging.client.id': serverName,
      'pilotlight.server.name': serverName,
      'pilotlight.job.type': 'TenantService',
      'pilotlight.job.method': 'provisionTenant',
      'pilotlight.job.id': jobId,
      'pilotlight.job.attempt': 1,
      'pilotlight.retry.count': 0,
    },
  );
  const waitMs = consumer.attributes['pilotlight.queue.wait_ms'];
  assert.ok(typeof waitMs === 'number' && Number.isInteger(waitMs) && waitMs >= 0, `pilotlight.queue.wait_ms is a non-negative integer; got ${JSON.stringify(waitMs)}`);
  assert.equal(consumer.status.code, 0, 'the CONSUMER span of a successful attempt is not an error');

  const applied = stateEvents(consumer);
  assert.deepEqual(
    applied.map((e) => e.name),
    ['State Applied: Processing', 'State Applied: Succeeded'],
    'the CONSUMER span records Processing then Succeeded, and nothing else',
  );
  const [processing, succeeded] = applied as [(typeof applied)[number], (typeof applied)[number]];
  assert.ok(processing.timeUnixNano <= succeeded.timeUnixNano, 'Processing is recorded before Succeeded');
  assert.equal(processing.attributes['pilotlight.state.new'], 'Processing');
  assert.equal(processing.attributes['pilotlight.state.old'], 'Enqueued');
  assert.equal(succeeded.attributes['pilotlight.state.new'], 'Succeeded');
  assert.equal(succeeded.attributes['pilotlight.state.old'], 'Processing');

  assert.deepEqual(
    consumer.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
    [{ traceId, spanId: producer.spanId }],
    'the CONSUMER span links to the PRODUCER span',
  );

  // --- INTERNAL: the handler's own span, child of the CONSUMER span --------------------------------
  assert.equal(provision.kind, OtlpSpanKind.INTERNAL);
  assert.equal(provision.scope, 'test');
  assert.equal(provision.parentSpanId, consumer.spanId, 'the handler ran with the CONSUMER span active');
  assert.equal(provision.attributes['tenant.id'], tenantId);
  assert.equal(provision.attributes['test.job.id'], jobId);
  assertWithin(provision, consumer, 'the handler’s span lies within the attempt’s span');
});

/**
 * `inner` lies within `outer` (same process). The SDK takes a span's start from `Date.now()` (whole
 * milliseconds) and its end from the start plus a `performance.now()` duration, so allow 1 ms.
 */
function assertWithin(inner: ReceivedSpan, outer: ReceivedSpan, message: string): void {
  const slack = 1_000_000n;
  assert.ok(
    inner.startTimeUnixNano + slack >= outer.startTimeUnixNano && inner.endTimeUnixNano <= outer.endTimeUnixNano + slack,
    `${message}: '${inner.name}' [${inner.startTimeUnixNano}, ${inner.endTimeUnixNano}] within '${outer.name}' [${outer.startTimeUnixNano}, ${outer.endTimeUnixNano}]`,
  );
}

function pick(attributes: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, attributes[key]]));
}

/** The span's `State Applied: ...` events, in the order they were recorded. */
function stateEvents(span: ReceivedSpan) {
  return span.events.filter((event) => event.name.startsWith('State Applied: '));
}
