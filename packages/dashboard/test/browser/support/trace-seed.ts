import { join } from 'node:path';
import { defineJob } from 'pilotlight';
import type { SpanRecord } from '../../../src/spans/model.ts';
import type { TraceStore } from '../../../src/spans/trace-store.ts';
import { createSqliteTraceStore } from '../../../src/traces/store/sqlite/create-sqlite-trace-store.ts';
import { expectedRecords, jobScenario, recordSpans } from '../../traces/support/real-spans.ts';
import { makeSpan } from '../../traces/support/span-builder.ts';
import type { Seed } from './seed.ts';

export const TRACE_STACK =
  'Error: storage for globex-flaky is not ready yet (POST /storage/globex-flaky answered 503)\n    at provisionTenant (file:///app/src/tenant-service.ts:41:13)\n    at async TenantService.run (file:///app/src/worker.ts:88:7)';

export interface TraceSeed {
  readonly traceStore: TraceStore;
  /** A `TenantService.provisionTenant` job (waiting in a queue no worker takes) whose trace is in the store. */
  readonly jobId: string;
  readonly traceId: string;
  /** Its first attempt, which failed with `TRACE_STACK`. */
  readonly failedAttempt: SpanRecord;
}

/**
 * A trace store in `dir` holding a job's trace as the tenants example sends it (the API's request and
 * the creation span, the worker's failed attempt with its exception and database and HTTP calls, the
 * transition, the retry, the storage stub's server span), task spans, and spans the real SDK recorded.
 * The spans started a minute ago.
 */
export async function seedTraces(dir: string, seed: Seed): Promise<TraceSeed> {
  const traceStore = createSqliteTraceStore({ path: join(dir, 'traces.db') });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const creationSpanId = '00f067aa0ba902b7';
  const job = defineJob('TenantService', (_args: { tenantId: string }) => {}, { queue: 'tenants' });
  const jobId = await seed.client.enqueue(
    job,
    { tenantId: 'globex-flaky' },
    { metadata: { traceparent: `00-${traceId}-${creationSpanId}-01` } },
  );
  const t0 = (Date.now() - 60_000) * 1000;
  const at = (ms: number) => t0 + ms * 1000;
  const api = { 'service.name': 'tenants-api', 'process.pid': 4711, 'host.name': 'web-1' };
  const worker = { 'service.name': 'tenants-worker', 'process.pid': 4712, 'host.name': 'worker-1' };
  const stub = { 'service.name': 'tenants-stub', 'process.pid': 4713, 'host.name': 'web-1' };
  const http = { name: '@opentelemetry/instrumentation-http', version: '0.203.0' };
  const jobAttributes = {
    'pilotlight.job.id': jobId,
    'pilotlight.job.type': 'TenantService',
    'pilotlight.job.method': 'provisionTenant',
    'messaging.destination.name': 'tenants',
  };
  const request = makeSpan({
    traceId,
    name: 'POST /api/tenants',
    kind: 'server',
    startUs: at(0),
    durationUs: 17_600,
    resource: api,
    scope: http,
    attributes: { 'http.request.method': 'POST', 'http.route': '/api/tenants', 'http.response.status_code': 202 },
  });
  const handler = makeSpan({
    parent: request,
    name: 'request handler',
    startUs: at(0.4),
    durationUs: 16_900,
    resource: api,
    scope: { name: '@opentelemetry/instrumentation-express' },
  });
  const creation = {
    ...makeSpan({
      parent: handler,
      name: 'enqueue TenantService.provisionTenant',
      kind: 'producer',
      startUs: at(1),
      durationUs: 410,
      resource: api,
      attributes: { ...jobAttributes, 'messaging.operation.name': 'enqueue' },
      events: [{ timeUs: at(1.3), name: 'State Applied: Enqueued', attributes: { 'pilotlight.state.new': 'Enqueued' } }],
    }),
    spanId: creationSpanId,
  };
  const failedAttempt = makeSpan({
    parent: creation,
    name: 'process TenantService.provisionTenant',
    kind: 'consumer',
    startUs: at(40),
    durationUs: 56_000,
    resource: worker,
    status: { code: 'error', message: 'storage for globex-flaky is not ready yet (POST /storage/globex-flaky answered 503)' },
    attributes: { ...jobAttributes, 'pilotlight.job.attempt': 1, 'pilotlight.retry.count': 0, 'error.type': 'Error' },
    events: [
      {
        timeUs: at(40.2),
        name: 'State Applied: Processing',
        attributes: { 'pilotlight.state.new': 'Processing', 'pilotlight.state.old': 'Enqueued' },
      },
      {
        timeUs: at(95),
        name: 'exception',
        attributes: {
          'exception.type': 'Error',
          'exception.message': 'storage for globex-flaky is not ready yet (POST /storage/globex-flaky answered 503)',
          'exception.stacktrace': TRACE_STACK,
        },
      },
      {
        timeUs: at(95.5),
        name: 'State Applied: Scheduled',
        attributes: { 'pilotlight.state.new': 'Scheduled', 'pilotlight.state.reason': 'Retry 1 of 3 in 500 ms: storage not ready' },
      },
    ],
    links: [{ traceId, spanId: creationSpanId, attributes: {} }],
  });
  const insert = makeSpan({
    parent: failedAttempt,
    name: 'db.insert tenants',
    kind: 'client',
    startUs: at(42),
    durationUs: 890,
    resource: worker,
  });
  const post = makeSpan({
    parent: failedAttempt,
    name: 'POST',
    kind: 'client',
    startUs: at(60),
    durationUs: 26_700,
    resource: worker,
    scope: http,
    status: { code: 'error' },
  });
  const stubServer = makeSpan({
    parent: post,
    name: 'POST /storage/:tenant',
    kind: 'server',
    startUs: at(62),
    durationUs: 820,
    resource: stub,
    scope: http,
    status: { code: 'error' },
  });
  const transition = makeSpan({
    parent: creation,
    name: 'transition TenantService.provisionTenant',
    startUs: at(600),
    durationUs: 1_000,
    resource: worker,
    attributes: jobAttributes,
    events: [
      {
        timeUs: at(600.5),
        name: 'State Applied: Enqueued',
        attributes: { 'pilotlight.state.new': 'Enqueued', 'pilotlight.state.old': 'Scheduled' },
      },
    ],
  });
  const retry = makeSpan({
    parent: creation,
    name: 'process TenantService.provisionTenant',
    kind: 'consumer',
    startUs: at(610),
    durationUs: 8_000,
    resource: worker,
    attributes: { ...jobAttributes, 'pilotlight.job.attempt': 2, 'pilotlight.retry.count': 1 },
    events: [{ timeUs: at(617), name: 'State Applied: Succeeded', attributes: { 'pilotlight.state.new': 'Succeeded' } }],
  });
  const settings = makeSpan({
    parent: retry,
    name: 'db.insert tenant_settings',
    kind: 'client',
    startUs: at(612),
    durationUs: 740,
    resource: worker,
  });
  const task = (status: string, ms: number, extra: Record<string, string> = {}) =>
    makeSpan({
      name: 'BackgroundTask.MetadataScanTask',
      startUs: at(ms),
      durationUs: 104_800,
      resource: api,
      scope: { name: 'pilotlight.tasks' },
      status: status === 'Completed' ? { code: 'ok' } : { code: 'error', message: 'library volume is read-only' },
      attributes: {
        'task.type': 'MetadataScanTask',
        'task.name': 'Metadata library scan',
        'task.status': status,
        'task.duration_ms': 104.8,
        ...extra,
      },
    });
  const real = expectedRecords(await recordSpans(jobScenario, { resource: { 'service.name': 'real-sdk', 'process.pid': 4242 } }));
  await traceStore.write([
    request,
    handler,
    creation,
    failedAttempt,
    insert,
    post,
    stubServer,
    transition,
    retry,
    settings,
    task('Completed', 700),
    task('Failed', 900, { 'exception.type': 'Error', 'exception.message': 'library volume is read-only' }),
    ...real,
  ]);
  return { traceStore, jobId, traceId, failedAttempt };
}
