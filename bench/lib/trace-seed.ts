import type { Attributes, SpanRecord, TraceStore } from '../../packages/dashboard/src/index.ts';
import { dbSpan, event, spanIdOf, TraceBuilder, traceIdOf } from './trace-span-builder.ts';

/**
 * Fills a trace store with the traces of a busy system, through `TraceStore.write()`, for the trace
 * pages' bench. Deterministic: trace `i` always has the same ids and spans. Of every 10 traces:
 * - 6 job traces (about 17 spans): `POST /api/tenants` in tenants-api enqueues a job and its
 *   continuation; a worker process runs the job's attempt (`process …` CONSUMER, State Applied
 *   events, database and HTTP CLIENT spans, the storage service's SERVER span), one in three failing
 *   first (ERROR, an exception event, a `transition` span, then the retry), then the continuation;
 *   one in 500 runs 6-10 minutes;
 * - 2 task traces (about 35 spans): `POST /api/scans` starting `BackgroundTask.{Type}` with `task.*`
 *   attributes and events, and its database spans; 5 % Failed, 3 % Cancelled, 2 % over 5 minutes;
 * - 2 HTTP requests (5 spans): `GET /api/jobs/:id` and the calls it makes.
 * Seven services, several processes of some (a resource each). Spread over the 3 days before `endMs`.
 */

export const JOB_TYPES = ['TenantService', 'WelcomeService', 'BillingService', 'ReportService', 'ImportService'] as const;
const TASK_TYPES = ['MetadataScanTask', 'ThumbnailTask', 'IndexRebuildTask'] as const;
const SPAN_DAYS = 3;
const WRITE_BATCH = 5_000;

function resource(service: string, pid: number): Attributes {
  return {
    'service.name': service,
    'service.version': '1.4.2',
    'service.instance.id': `${service}-${pid}`,
    'process.pid': pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': '24.11.0',
    'host.name': `${service}-host-${pid % 3}`,
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': '2.2.0',
  };
}

const API = resource('tenants-api', 1001);
const STUB = resource('tenants-stub', 3001);
const WORKERS = [2001, 2002, 2003, 2004].map((pid) => resource('tenants-worker', pid));
const OTHERS = [
  resource('billing-worker', 4001),
  resource('reports-worker', 5001),
  resource('imports-worker', 6001),
  resource('mail-service', 7001),
];

/** Whether trace `i` is a job's trace (6 in 10). */
export function isJobTrace(i: number): boolean {
  return i % 10 < 6;
}

export function jobTypeOf(i: number): string {
  return JOB_TYPES[Math.floor(i / 10) % JOB_TYPES.length]!;
}

/** The traceparent a job of the job store carries to point at job trace `i`: its enqueue span. */
export function traceparentOf(i: number): string {
  return `00-${traceIdOf(i)}-${spanIdOf(i, 3)}-01`;
}

/** One attempt of a job: 6 spans (7 with the storage service's); returns its end. */
function attempt(
  t: TraceBuilder,
  i: number,
  jobId: string,
  type: string,
  parent: string,
  at: number,
  number: number,
  fails: boolean,
  worker: Attributes,
): number {
  const long = i % 500 === 0 && !fails;
  const end = at + (long ? 360_000 + (i % 240_000) : 8 + (i % 40));
  const jobAttributes: Attributes = {
    'messaging.system': 'pilotlight',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': 'default',
    'messaging.message.id': jobId,
    'messaging.client.id': `${worker['service.instance.id']}`,
    'pilotlight.job.id': jobId,
    'pilotlight.job.type': type,
    'pilotlight.job.method': 'perform',
    'pilotlight.job.attempt': number,
    'pilotlight.retry.count': number - 1,
    'pilotlight.queue.wait_ms': i % 30,
    'pilotlight.server.name': `${worker['service.instance.id']}`,
  };
  const message = `storage for tenant-${i} is not ready yet`;
  const events = [
    event(at, 'State Applied: Processing', { 'pilotlight.state.new': 'Processing', 'pilotlight.state.old': 'Enqueued' }),
    ...(fails
      ? [
          event(end - 1, 'exception', {
            'exception.type': 'Error',
            'exception.message': message,
            'exception.stacktrace': `Error: ${message}\n    at provision (file:///app/jobs/tenants.js:42:11)\n    at async perform (file:///app/worker.js:88:5)`,
          }),
          event(end, 'State Applied: Scheduled', {
            'pilotlight.state.new': 'Scheduled',
            'pilotlight.state.old': 'Processing',
            'pilotlight.state.reason': 'Retry 1 of 10',
          }),
        ]
      : [event(end, 'State Applied: Succeeded', { 'pilotlight.state.new': 'Succeeded', 'pilotlight.state.old': 'Processing' })]),
  ];
  const span = t.add(
    { name: `process ${type}.perform`, kind: 'consumer', parent, start: at, end, resource: worker, scope: 'pilotlight' },
    fails ? { ...jobAttributes, 'error.type': 'Error' } : jobAttributes,
    events,
    fails ? message : undefined,
  );
  dbSpan(t, span, at + 0.5, worker, 'INSERT', 'tenants');
  const post = t.add(
    {
      name: 'POST',
      kind: 'client',
      parent: span,
      start: at + 1,
      end: at + 5,
      resource: worker,
      scope: '@opentelemetry/instrumentation-undici',
    },
    {
      'http.request.method': 'POST',
      'url.full': `http://stub:8080/buckets/tenant-${i}`,
      'server.address': 'stub',
      'server.port': 8080,
      'http.response.status_code': fails ? 503 : 201,
    },
    [],
    fails ? '503' : undefined,
  );
  t.add(
    {
      name: 'POST /buckets/:id',
      kind: 'server',
      parent: post,
      start: at + 1.5,
      end: at + 4.5,
      resource: STUB,
      scope: '@opentelemetry/instrumentation-http',
    },
    { 'http.request.method': 'POST', 'http.route': '/buckets/:id', 'http.response.status_code': fails ? 503 : 201 },
  );
  if (!fails) {
    dbSpan(t, span, at + 5.5, worker, 'INSERT', 'tenant_settings');
    dbSpan(t, span, at + 6.5, worker, 'UPDATE', 'tenants');
  }
  return end;
}

function jobTrace(t: TraceBuilder, i: number, at: number, jobId: string): void {
  const type = jobTypeOf(i);
  const worker = i % 7 === 0 ? OTHERS[i % OTHERS.length]! : WORKERS[i % WORKERS.length]!;
  const root = t.add(
    { name: 'POST /api/tenants', kind: 'server', start: at, end: at + 18, resource: API, scope: '@opentelemetry/instrumentation-http' },
    {
      'http.request.method': 'POST',
      'http.route': '/api/tenants',
      'url.path': '/api/tenants',
      'http.response.status_code': 202,
      'client.address': '10.0.0.7',
    },
  );
  const handler = t.add({
    name: 'request handler',
    kind: 'internal',
    parent: root,
    start: at + 0.5,
    end: at + 17,
    resource: API,
    scope: '@opentelemetry/instrumentation-express',
  });
  const enqueue = t.add(
    {
      name: `enqueue ${type}.perform`,
      kind: 'producer',
      parent: handler,
      start: at + 1,
      end: at + 1.4,
      resource: API,
      scope: 'pilotlight',
    },
    { 'messaging.system': 'pilotlight', 'messaging.operation.type': 'send', 'pilotlight.job.id': jobId, 'pilotlight.job.type': type },
    [event(at + 1.3, 'State Applied: Enqueued', { 'pilotlight.state.new': 'Enqueued' })],
  );
  t.add(
    {
      name: 'continue WelcomeService.sendWelcome',
      kind: 'producer',
      parent: handler,
      start: at + 2,
      end: at + 2.3,
      resource: API,
      scope: 'pilotlight',
    },
    { 'messaging.system': 'pilotlight', 'messaging.operation.type': 'send', 'pilotlight.job.type': 'WelcomeService' },
    [event(at + 2.2, 'State Applied: Awaiting', { 'pilotlight.state.new': 'Awaiting' })],
  );
  let end = at + 30;
  if (i % 3 === 0) {
    end = attempt(t, i, jobId, type, enqueue, end, 1, true, worker);
    t.add(
      {
        name: `transition ${type}.perform`,
        kind: 'internal',
        parent: enqueue,
        start: end + 500,
        end: end + 501,
        resource: worker,
        scope: 'pilotlight',
      },
      { 'pilotlight.job.id': jobId, 'pilotlight.state.new': 'Enqueued', 'pilotlight.state.old': 'Scheduled' },
      [event(end + 500.5, 'State Applied: Enqueued')],
    );
    end = attempt(t, i, jobId, type, enqueue, end + 502, 2, false, worker);
  } else {
    end = attempt(t, i, jobId, type, enqueue, end, 1, false, worker);
  }
  const welcome = t.add(
    {
      name: 'process WelcomeService.sendWelcome',
      kind: 'consumer',
      parent: enqueue,
      start: end + 3,
      end: end + 12,
      resource: worker,
      scope: 'pilotlight',
    },
    { 'messaging.system': 'pilotlight', 'pilotlight.job.type': 'WelcomeService', 'pilotlight.job.attempt': 1 },
    [event(end + 3, 'State Applied: Processing'), event(end + 12, 'State Applied: Succeeded')],
  );
  t.add(
    { name: 'smtp send', kind: 'client', parent: welcome, start: end + 4, end: end + 11, resource: worker, scope: 'mailer' },
    { 'server.address': 'smtp.internal' },
  );
}

function taskTrace(t: TraceBuilder, i: number, at: number): void {
  const type = TASK_TYPES[i % TASK_TYPES.length]!;
  const slot = Math.floor(i / 10) % 100;
  const status = slot < 5 ? 'Failed' : slot < 8 ? 'Cancelled' : 'Completed';
  const durationMs = slot >= 98 ? 300_000 + (i % 600_000) : 100 + (i % 20_000);
  const root = t.add(
    { name: 'POST /api/scans', kind: 'server', start: at, end: at + 2, resource: API, scope: '@opentelemetry/instrumentation-http' },
    { 'http.request.method': 'POST', 'http.route': '/api/scans', 'http.response.status_code': 202 },
  );
  const handler = t.add({
    name: 'request handler',
    kind: 'internal',
    parent: root,
    start: at + 0.3,
    end: at + 1.8,
    resource: API,
    scope: '@opentelemetry/instrumentation-express',
  });
  const start = at + 1;
  const end = start + durationMs;
  const message =
    status === 'Failed' ? `library /srv/media/${i} is not mounted` : status === 'Cancelled' ? 'Task was cancelled' : undefined;
  const task = t.add(
    { name: `BackgroundTask.${type}`, kind: 'internal', parent: handler, start, end, resource: API, scope: 'pilotlight.tasks' },
    {
      'task.id': `0193${i.toString(16).padStart(8, '0')}-7890-7abc-8ef0-123456789abc`,
      'task.type': type,
      'task.name': `${type.replace(/Task$/, '')} of library ${i % 40}`,
      'task.status': status,
      'task.duration_ms': durationMs + 0.5,
    },
    [
      event(start, 'task.started'),
      event(start + durationMs / 2, 'task.progress', { 'task.progress.value': 0.5, 'task.progress.message': 'half way' }),
      ...(status === 'Failed' ? [event(end - 0.1, 'exception', { 'exception.type': 'Error', 'exception.message': message! })] : []),
      event(end, `task.${status.toLowerCase()}`),
    ],
    message,
  );
  const reads = 32 + (i % 30);
  for (let r = 0; r < reads; r++) dbSpan(t, task, start + (r * durationMs) / reads, API, 'SELECT', 'media_items');
}

function requestTrace(t: TraceBuilder, i: number, at: number): void {
  const root = t.add(
    { name: 'GET /api/jobs/:id', kind: 'server', start: at, end: at + 6, resource: API, scope: '@opentelemetry/instrumentation-http' },
    { 'http.request.method': 'GET', 'http.route': '/api/jobs/:id', 'http.response.status_code': i % 50 === 0 ? 404 : 200 },
  );
  const handler = t.add({
    name: 'request handler',
    kind: 'internal',
    parent: root,
    start: at + 0.2,
    end: at + 5.8,
    resource: API,
    scope: '@opentelemetry/instrumentation-express',
  });
  dbSpan(t, handler, at + 0.5, API, 'SELECT', 'jobs');
  const get = t.add(
    {
      name: 'GET',
      kind: 'client',
      parent: handler,
      start: at + 1,
      end: at + 5,
      resource: API,
      scope: '@opentelemetry/instrumentation-undici',
    },
    { 'http.request.method': 'GET', 'url.full': `http://stub:8080/status/${i}`, 'http.response.status_code': 200 },
  );
  t.add(
    {
      name: 'GET /status/:id',
      kind: 'server',
      parent: get,
      start: at + 1.5,
      end: at + 4.5,
      resource: STUB,
      scope: '@opentelemetry/instrumentation-http',
    },
    { 'http.route': '/status/:id' },
  );
}

/** The spans of trace `i` of `traces`, starting at its place in the 3 days before `endMs`; `jobId`: the job store's id for a job trace. */
export function traceSpans(i: number, traces: number, endMs: number, jobId: string): SpanRecord[] {
  const t = new TraceBuilder(i);
  const at = endMs - SPAN_DAYS * 86_400_000 + (i * SPAN_DAYS * 86_400_000) / traces - 1_000_000;
  if (isJobTrace(i)) jobTrace(t, i, at, jobId);
  else if (i % 10 < 8) taskTrace(t, i, at);
  else requestTrace(t, i, at);
  return t.spans;
}

/** Average spans per trace of the mix, to size the trace count for a number of spans. */
export function spansPerTrace(): number {
  let total = 0;
  for (let i = 0; i < 3000; i++) total += traceSpans(i, 3000, Date.now(), 'j').length;
  return total / 3000;
}

/**
 * Writes about `spans` spans (whole traces: `traces` of them) in batches of 5,000; `jobIdOf(i)` gives
 * the job id for job trace `i` (the seeded job pointing at it, or a made-up one).
 */
export async function seedTraces(
  store: TraceStore,
  traces: number,
  jobIdOf: (i: number) => string,
  progress: (spans: number) => void,
): Promise<number> {
  const endMs = Date.now();
  let batch: SpanRecord[] = [];
  let written = 0;
  for (let i = 0; i < traces; i++) {
    batch.push(...traceSpans(i, traces, endMs, jobIdOf(i)));
    if (batch.length >= WRITE_BATCH || i === traces - 1) {
      await store.write(batch);
      written += batch.length;
      batch = [];
      progress(written);
    }
  }
  return written;
}
