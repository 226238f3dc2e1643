/**
 * The API process ('tenants-api'): an Express 5 app that enqueues jobs into the shared SQLite store
 * and runs in-process background tasks. Start it with the telemetry hook, so that `node:http` and
 * Express are instrumented (they must be patched before they are imported):
 *
 *   OTEL_SERVICE_NAME=tenants-api node --import @pilotlight/otel/register examples/tenants/api.ts
 *
 *   POST /api/tenants  { "tenantId": "acme" }  → 202 { jobId, welcomeJobId }   enqueues TenantService.provisionTenant
 *   GET  /api/jobs/:id[?waitMs=N]               → 200 the job, its state and history; 404 if unknown
 *   POST /api/scans    { "prefix"?: "ac" }      → 202 { taskId }                  starts a MetadataScanTask
 *   GET  /api/scans/:id[?waitMs=N]              → 200 the task's snapshot (and result); 404 if unknown
 *
 * `?waitMs=N` (at most 30000) makes a GET a long poll: it answers as soon as the job or scan is
 * finished, or after N ms with its current state.
 */
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createClient, createTaskManager, FINISHED_STATES, jobDisplayName } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { AppDb } from './src/app-db.ts';
import { announceReady, onShutdown, readConfig } from './src/config.ts';
import { TenantService, WelcomeService } from './src/jobs.ts';
import { MetadataScanTask, type ScanResult } from './src/tasks.ts';
import { flushTelemetry } from './src/telemetry.ts';

const config = readConfig();
const store = createSqliteStore({ path: config.jobsDbPath });
const client = createClient({ store });
const db = new AppDb(config.appDbPath);
const tasks = createTaskManager({
  concurrency: 4,
  concurrencyPerType: { MetadataScanTask: 1 },
  activate: (taskClass) => new (taskClass as typeof MetadataScanTask)(db),
});

/** What completed scans found, by task id (the task manager keeps snapshots, not results). */
const scanResults = new Map<string, ScanResult>();

/** Thrown by the handlers for a bad request: answered 400 with its message. */
class BadRequest extends Error {}

function readWaitMs(value: unknown): number {
  if (value === undefined) return 0;
  const ms = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(ms) || ms < 0 || ms > 30_000) {
    throw new BadRequest(`waitMs must be an integer number of milliseconds between 0 and 30000; received ${JSON.stringify(value)}`);
  }
  return ms;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const app = express();
app.use(express.json({ limit: '16kb' }));

app.post('/api/tenants', async (request: Request, response: Response) => {
  const tenantId = (request.body as { tenantId?: unknown } | undefined)?.tenantId;
  if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId)) {
    throw new BadRequest(
      `tenantId must be a string of 1 to 63 lowercase letters, digits and inner dashes (e.g. "acme"); received ${JSON.stringify(tenantId) ?? 'nothing'}`,
    );
  }
  // Runs inside the request's span: the job's `enqueue` span is its child, and the trace context
  // is stored with the job, so the worker's `process` spans continue this trace.
  const jobId = await client.enqueue(TenantService, 'provisionTenant', [tenantId], { queue: 'tenants' });
  const welcomeJobId = await client.continueWith(jobId, WelcomeService, 'sendWelcome', [tenantId]);
  response.status(202).location(`/api/jobs/${jobId}`).json({ jobId, welcomeJobId });
});

app.get('/api/jobs/:id', async (request: Request<{ id: string }>, response: Response) => {
  // `?waitMs=N`: a long poll, answering once the job is finished (Succeeded, Failed, Deleted) or after N ms.
  const waitMs = readWaitMs(request.query.waitMs);
  const deadline = Date.now() + waitMs;
  let job = await client.getJob(request.params.id);
  while (job && !FINISHED_STATES.has(job.state) && Date.now() < deadline && !request.socket.destroyed) {
    await sleep(50);
    job = await client.getJob(job.id);
  }
  if (!job) return void response.status(404).json({ error: `Job '${request.params.id}' not found` });
  const history = await client.getHistory(job.id);
  response.json({
    id: job.id,
    job: jobDisplayName(job),
    args: job.args,
    queue: job.queue,
    state: job.state,
    reason: job.stateReason,
    attempt: job.attempt,
    retryCount: job.retryCount,
    progress: job.progress,
    parentId: job.parentId,
    createdAt: job.createdAt,
    // The W3C context of the span that created the job (`00-{traceId}-{spanId}-01`): find the trace by it.
    traceparent: job.metadata.traceparent,
    history: history.map((state) => ({
      state: state.name,
      at: state.at,
      reason: state.reason,
      ...(state.attempt !== undefined && { attempt: state.attempt }),
      ...(state.serverName !== undefined && { serverName: state.serverName }),
      ...(state.error !== undefined && { error: { type: state.error.type, message: state.error.message } }),
    })),
  });
});

app.post('/api/scans', (request: Request, response: Response) => {
  const prefix = (request.body as { prefix?: unknown } | undefined)?.prefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix.length > 63)) {
    throw new BadRequest(`prefix must be a string of at most 63 characters when given; received ${JSON.stringify(prefix)}`);
  }
  const task = tasks.start(MetadataScanTask, prefix === undefined ? {} : { prefix }, { name: 'Tenant metadata scan' });
  // A failure is in the snapshot (status, error); keep what a completed scan found.
  task.result.then(
    (result) => scanResults.set(task.id, result),
    () => {},
  );
  response.status(202).location(`/api/scans/${task.id}`).json({ taskId: task.id });
});

app.get('/api/scans/:id', async (request: Request<{ id: string }>, response: Response) => {
  // `?waitMs=N`: a long poll, answering once the scan is finished or after N ms.
  const deadline = Date.now() + readWaitMs(request.query.waitMs);
  let task = tasks.get(request.params.id);
  while ((task?.status === 'Pending' || task?.status === 'Running') && Date.now() < deadline && !request.socket.destroyed) {
    await sleep(50);
    task = tasks.get(request.params.id);
  }
  if (!task) {
    scanResults.delete(request.params.id);
    return void response.status(404).json({ error: `Scan '${request.params.id}' not found` });
  }
  response.json({ ...task, result: scanResults.get(task.id) });
});

app.use((request: Request, response: Response) => {
  response.status(404).json({ error: `No route for ${request.method} ${request.path}` });
});

app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
  if (error instanceof BadRequest) return void response.status(400).json({ error: error.message });
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // express.json(): malformed JSON, too large, wrong charset…
    return void response.status(status).json({ error: `Invalid request body: ${(error as Error).message}` });
  }
  console.error('[api] request failed:', error);
  response.status(500).json({ error: 'Internal error' });
});

const server = app.listen(config.apiPort, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`[api] tenants API listening on http://127.0.0.1:${port}`);
  announceReady({ port });
});

onShutdown('api', async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await tasks.shutdown({ timeout: 5_000 });
  await store.close();
  db.close();
  await flushTelemetry();
});
