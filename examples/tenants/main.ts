/**
 * The tenants demo (`npm start` at the repository root): four processes, one trace per request.
 *
 *   dashboard  Pilotlight's dashboard and OTLP receiver      ('tenants-dashboard', not traced itself)
 *   stub       a stand-in storage/mail service               ('tenants-stub')
 *   api        Express: POST /api/tenants enqueues           ('tenants-api')
 *   worker     runs the jobs from the shared SQLite file     ('tenants-worker')
 *
 * The stub, API and worker are started with `node --import @pilotlight/otel/register`, which
 * registers OpenTelemetry and instruments node:http, Express and fetch, and with
 * OTEL_EXPORTER_OTLP_ENDPOINT set to the dashboard's URL: their spans join up there into single
 * traces, and each job's page shows its trace. An OTEL_EXPORTER_OTLP_ENDPOINT of your own (Jaeger,
 * Tempo, …) is used instead. With `--print-traces`, nothing is exported: each process prints each
 * finished trace as a tree (forwarded here, prefixed with the process's name).
 *
 * The demo sends a short burst of requests (two tenants, one of them flaky; then a scan), waits until
 * the jobs, their continuations and the scan are done, prints their histories with their dashboard
 * links and stops the processes with SIGTERM (each flushes its telemetry; the dashboard stops last,
 * once it has received it). Exit code 0 when everything succeeded.
 *
 * In a terminal (or with `--keep-running`) the processes keep running after the burst, so the
 * dashboard can be explored, until Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createSqliteStore } from 'pilotlight/sqlite';
import { AppDb } from './src/app-db.ts';

const here = import.meta.dirname;
const dataDir = join(here, '.data');
const DEADLINE = Date.now() + 60_000;
/** Keep the processes (and the dashboard) running after the burst, until Ctrl-C: in a terminal, or when asked. */
const keepRunning = process.argv.includes('--keep-running') || (process.stdout.isTTY && !process.env.CI);
/** Print each process's traces as trees instead of exporting them to the dashboard. */
const printTraces = process.argv.includes('--print-traces');
/** Ctrl-C or SIGTERM: ends the wait of `--keep-running`, or interrupts the demo. */
const interrupted = new Promise<NodeJS.Signals>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
const children: { name: string; child: ChildProcess; exited: Promise<number | null> }[] = [];

function log(line: string): void {
  console.log(`demo      │ ${line}`);
}

/** Starts `script` (with the telemetry hook unless `traced` is false); resolves with its 'ready' message. */
function start(name: string, script: string, env: NodeJS.ProcessEnv, traced = true): Promise<Record<string, unknown>> {
  const hook = traced ? ['--import', '@pilotlight/otel/register'] : [];
  const child = spawn(process.execPath, [...hook, join(here, script)], {
    cwd: here,
    env: { ...process.env, OTEL_SERVICE_NAME: `tenants-${name}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // A process group of its own: Ctrl-C reaches the runner alone, which stops each process once.
    detached: true,
  });
  const prefix = `${name.padEnd(9)} │ `;
  createInterface({ input: child.stdout! }).on('line', (line) => console.log(prefix + line));
  createInterface({ input: child.stderr! }).on('line', (line) => console.error(prefix + line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  children.push({ name, child, exited });
  return new Promise((resolve, reject) => {
    child.on('message', (message: { type?: string }) => {
      if (message?.type === 'ready') resolve(message as Record<string, unknown>);
    });
    void exited.then((code) => reject(new Error(`${name} exited with code ${code} before it was ready`)));
  });
}

async function call<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Polls `read` until it returns a value; throws at the demo's deadline. */
async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > DEADLINE) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface JobResponse {
  id: string;
  job: string;
  state: string;
  traceparent?: string;
  history: { state: string; reason?: string }[];
}

/** Stops the processes; the dashboard last, so that it receives the spans the others flush on SIGTERM. */
async function stopAll(): Promise<boolean> {
  const [viewers, traced] = [children.filter((c) => c.name === 'dashboard'), children.filter((c) => c.name !== 'dashboard')];
  const first = await stop(traced);
  return (await stop(viewers)) && first;
}

async function stop(group: typeof children): Promise<boolean> {
  let clean = true;
  for (const { child } of group) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(
    group.map(async ({ name, child, exited }) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) {
        clean = false;
        console.error(`demo      │ ${name} exited with ${code ?? child.signalCode}`);
      }
    }),
  );
  return clean;
}

/** Runs the demo; resolves with the dashboard's URL. */
async function main(): Promise<string> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  // Create both databases (schema, WAL) before the processes open them.
  await createSqliteStore({ path: join(dataDir, 'jobs.db') }).close();
  new AppDb(join(dataDir, 'app.db')).close();
  const env = { TENANTS_DATA_DIR: dataDir, TENANTS_API_PORT: '0', TENANTS_STUB_PORT: '0', TENANTS_DASHBOARD_PORT: '0' };
  const dashboard = await start('dashboard', 'dashboard.ts', env, false);
  const dashboardUrl = `http://127.0.0.1:${dashboard.port}`;
  const otlp = printTraces ? undefined : (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? dashboardUrl);
  log(`data in ${dataDir}; traces ${otlp ? `sent to ${otlp}` : 'printed below as trees, one per process'}`);
  log(`Dashboard: ${dashboardUrl}/`);
  const telemetry: NodeJS.ProcessEnv = otlp
    ? // Export every 0.5 s rather than the default 5 s, so that traces show up in the dashboard at once.
      { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? '500' }
    : { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
  const traced = { ...env, ...telemetry };
  const stub = await start('stub', 'stub.ts', traced);
  const [api] = await Promise.all([
    start('api', 'api.ts', { ...traced, TENANTS_STUB_URL: `http://127.0.0.1:${stub.port}` }),
    start('worker', 'worker.ts', { ...traced, TENANTS_STUB_URL: `http://127.0.0.1:${stub.port}` }),
  ]);
  const base = `http://127.0.0.1:${api!.port}`;

  // The burst: two tenants at once, one of which fails its first attempt.
  const created = await Promise.all(
    ['acme', 'globex-flaky'].map(async (tenantId) => {
      const { status, body } = await call<{ jobId: string; welcomeJobId: string; error?: string }>('POST', `${base}/api/tenants`, {
        tenantId,
      });
      log(`POST /api/tenants {"tenantId":"${tenantId}"} → ${status} ${JSON.stringify(body)}`);
      if (status !== 202) throw new Error(`POST /api/tenants answered ${status}: ${body.error}`);
      return body;
    }),
  );

  // Long polls (`?waitMs=`): one request per job, answered once the job is finished.
  const jobIds = created.flatMap((c) => [c.jobId, c.welcomeJobId]);
  const jobs: JobResponse[] = [];
  for (const id of jobIds) {
    const job = await until(`job ${id} to finish`, async () => {
      const { body } = await call<JobResponse>('GET', `${base}/api/jobs/${id}?waitMs=5000`);
      if (body.state === 'Failed' || body.state === 'Deleted')
        throw new Error(`job ${body.id} ${body.job} ended ${body.state}: ${JSON.stringify(body.history)}`);
      return body.state === 'Succeeded' ? body : undefined;
    });
    jobs.push(job);
  }

  // A background task in the API process, once the tenants exist.
  const scan = await call<{ taskId: string }>('POST', `${base}/api/scans`, {});
  log(`POST /api/scans {} → ${scan.status} ${JSON.stringify(scan.body)}`);
  const task = await until('the scan to complete', async () => {
    const { body } = await call<{ id: string; status: string; durationMs: number; result?: unknown; error?: { message: string } }>(
      'GET',
      `${base}/api/scans/${scan.body.taskId}?waitMs=5000`,
    );
    if (body.status === 'Failed' || body.status === 'Cancelled') throw new Error(`scan ${body.status}: ${body.error?.message}`);
    return body.status === 'Completed' ? body : undefined;
  });

  await new Promise((resolve) => setTimeout(resolve, 700)); // let the last trees print (or spans export: every 0.5 s) before the summary
  log('');
  log('Job histories (GET /api/jobs/:id):');
  for (const job of jobs) {
    const [, traceId, spanId] = job.traceparent?.split('-') ?? [];
    log(`  job ${job.id} ${job.job.padEnd(29)} ${job.history.map((s) => s.state).join(' → ')}`);
    if (traceId) log(`        trace ${traceId}, created by span ${spanId}: ${dashboardUrl}/jobs/${job.id}`);
    for (const state of job.history.filter((s) => s.state === 'Scheduled')) log(`        ${state.reason}`);
  }
  log(`Scan ${task.id} (GET /api/scans/:id): ${task.status} in ${task.durationMs.toFixed(1)} ms, found ${JSON.stringify(task.result)}`);
  if (otlp === dashboardUrl) log(`Traces: ${dashboardUrl}/traces, tasks: ${dashboardUrl}/tasks`);
  log('');
  return `${dashboardUrl}/`;
}

let ok = false;
try {
  const dashboardUrl = await Promise.race([
    main(),
    interrupted.then((signal): never => {
      throw new Error(`interrupted by ${signal}`);
    }),
  ]);
  ok = true;
  if (keepRunning) {
    log(`The processes keep running: open the dashboard at ${dashboardUrl} (Ctrl-C stops them).`);
    await interrupted;
  }
} catch (error) {
  console.error(`demo      │ FAILED: ${(error as Error).message}`);
}
log('Stopping the processes (SIGTERM: each flushes its telemetry)…');
const clean = await stopAll();
log(ok && clean ? 'Done.' : 'Done, with errors.');
process.exit(ok && clean ? 0 : 1);
