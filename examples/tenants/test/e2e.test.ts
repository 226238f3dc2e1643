/**
 * The tenants example end to end, run exactly as the README says: `npm start -- --print-traces` at the
 * repository root. Real processes (stub, API, worker, and the dashboard) on a fresh SQLite file; the
 * test reads the trace trees the three traced ones print (forwarded by the demo runner, each line prefixed with its process's name) and checks the
 * scenario the README describes (an HTTP request enqueues a job that a worker in another process
 * runs, fails once and retries, all in one trace; a scan task traced under its request):
 *
 *   api     POST /api/tenants                          SERVER
 *           └ … enqueue TenantService.provisionTenant  PRODUCER   · State Applied: Enqueued
 *   worker      (parent: that enqueue span, in another process)
 *               process TenantService.provisionTenant  CONSUMER   · State Applied: Processing / Scheduled   (attempt 1, flaky tenant)
 *               transition TenantService.provisionTenant           · State Applied: Enqueued
 *               process TenantService.provisionTenant  CONSUMER   · State Applied: Processing / Succeeded
 *               ├ db.insert tenants, POST (fetch), db.insert tenant_settings, db.update tenants
 *   api     POST /api/scans
 *           └ … BackgroundTask.MetadataScanTask                  · task.started … task.completed
 *
 * A second test starts the API alone and checks its answers to bad requests.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EXAMPLE = join(import.meta.dirname, '..');
const RUN_TIMEOUT = 120_000;

/** The environment of a developer without an OTLP backend of their own. */
function consoleEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('OTEL_')) delete env[key];
  return env;
}

const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${RUN_TIMEOUT} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, RUN_TIMEOUT);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

// --- Reading the printed trees ------------------------------------------------------------------

interface SpanNode {
  readonly name: string;
  readonly kind: string;
  readonly error: string | undefined;
  readonly events: string[];
  readonly children: SpanNode[];
  /** For a root whose parent is in another process: the parent's span id. */
  readonly remoteParent: string | undefined;
}

/** trace id → the roots printed for it, in order (a trace may be printed in several parts). */
type Traces = Map<string, SpanNode[]>;

const SPAN_LINE = /^(.*?) {2}\[(SERVER|CLIENT|PRODUCER|CONSUMER|INTERNAL)\] {2}\S+ m?s(?: {2}ERROR(?:: (.*))?)?$/;

/** Splits the demo's output by process (`api    │ …`) and parses each process's trees. */
function parseOutput(stdout: string): Map<string, Traces> {
  const byProcess = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const match = /^(\w+)\s*│ (.*)$/.exec(line);
    if (!match) continue;
    const lines = byProcess.get(match[1]!) ?? [];
    lines.push(match[2]!);
    byProcess.set(match[1]!, lines);
  }
  return new Map([...byProcess].map(([name, lines]) => [name, parseTrees(lines)]));
}

function parseTrees(lines: readonly string[]): Traces {
  const traces: Traces = new Map();
  let roots: SpanNode[] | undefined;
  let remoteParent: string | undefined;
  let stack: SpanNode[] = []; // stack[d] = the last span printed at depth d
  for (const line of lines) {
    const header = /^trace ([0-9a-f]{32})$/.exec(line);
    if (header) {
      roots = traces.get(header[1]!) ?? [];
      traces.set(header[1]!, roots);
      stack = [];
      continue;
    }
    if (!roots) continue;
    const parent = /^\(parent span ([0-9a-f]{16}) .*\)$/.exec(line);
    if (parent) {
      remoteParent = parent[1];
      continue;
    }
    const [, prefix = '', rest = ''] = /^([│├└─ ]*)(.*)$/.exec(line)!;
    if (rest.startsWith('· ')) {
      stack[prefix.length / 3 - 1]?.events.push(rest.slice(2));
      continue;
    }
    const span = SPAN_LINE.exec(rest);
    if (!span) {
      roots = undefined; // a log line: the tree is over
      continue;
    }
    const depth = prefix.length / 3;
    const node: SpanNode = {
      name: span[1]!,
      kind: span[2]!,
      error: line.includes('  ERROR') ? (span[3] ?? '') : undefined,
      events: [],
      children: [],
      remoteParent: depth === 0 ? remoteParent : undefined,
    };
    if (depth === 0) {
      roots.push(node);
      remoteParent = undefined;
    } else {
      assert.ok(stack[depth - 1], `a span line without a parent line: '${line}'`);
      stack[depth - 1]!.children.push(node);
    }
    stack[depth] = node;
    stack.length = depth + 1;
  }
  return traces;
}

function descendants(node: SpanNode): SpanNode[] {
  return node.children.flatMap((child) => [child, ...descendants(child)]);
}

function stateEvents(node: SpanNode): string[] {
  return node.events.filter((event) => event.startsWith('State Applied: '));
}

interface JobSummary {
  readonly id: string;
  readonly job: string;
  readonly states: string[];
  readonly traceId: string;
  readonly creationSpanId: string;
}

/** The demo's summary: `job 3 TenantService.provisionTenant Enqueued → … → Succeeded` + `trace T, created by span S`. */
function parseSummary(stdout: string): JobSummary[] {
  const jobs: JobSummary[] = [];
  const pattern = /demo\s*│\s+job (\d+) (\S+)\s+(.+)\n.*│\s+trace ([0-9a-f]{32}), created by span ([0-9a-f]{16})/g;
  for (const m of stdout.matchAll(pattern)) {
    jobs.push({ id: m[1]!, job: m[2]!, states: m[3]!.trim().split(' → '), traceId: m[4]!, creationSpanId: m[5]! });
  }
  return jobs;
}

// --- The tests -------------------------------------------------------------------------------------

test(
  'npm start -- --print-traces runs the tenants demo: one trace from POST /api/tenants to every attempt on the worker',
  { timeout: RUN_TIMEOUT + 10_000 },
  async (t) => {
    const started = Date.now();
    const { code, stdout, stderr } = await run('npm', ['start', '--', '--print-traces'], { cwd: ROOT, env: consoleEnv() });
    const elapsed = Date.now() - started;
    const context = `\nstdout:\n${stdout}\nstderr:\n${stderr}`;
    assert.equal(code, 0, `npm start exited with ${code}${context}`);
    assert.match(stdout, /demo\s*│ Done\.$/m, `the demo finished cleanly${context}`);
    t.diagnostic(`npm start took ${elapsed} ms`);

    const processes = parseOutput(stdout);
    const api: Traces = processes.get('api') ?? new Map();
    const worker: Traces = processes.get('worker') ?? new Map();
    assert.ok(api.size > 0 && worker.size > 0, `the API and the worker printed trace trees${context}`);

    // The four jobs, all Succeeded, with the trace context their creation stored.
    const jobs = parseSummary(stdout);
    assert.equal(jobs.length, 4, `the demo lists four jobs${context}`);
    for (const job of jobs) assert.equal(job.states.at(-1), 'Succeeded', `job ${job.id} ${job.job} succeeded${context}`);
    const provisions = jobs.filter((job) => job.job === 'TenantService.provisionTenant');
    const welcomes = jobs.filter((job) => job.job === 'WelcomeService.sendWelcome');
    assert.equal(provisions.length, 2);
    assert.equal(welcomes.length, 2);
    const flaky = provisions.filter((job) => job.states.includes('Scheduled'));
    assert.equal(flaky.length, 1, `exactly one tenant was retried${context}`);
    assert.deepEqual(flaky[0]!.states, ['Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Succeeded']);

    for (const job of provisions) {
      const retried = job === flaky[0];

      // API process: the request span, and under it the job's creation.
      const apiRoots: SpanNode[] = api.get(job.traceId) ?? [];
      const request = apiRoots.find((root) => root.name === 'POST /api/tenants');
      assert.ok(request, `the API printed trace ${job.traceId} with the POST /api/tenants request at its root${context}`);
      assert.equal(request.kind, 'SERVER');
      assert.equal(request.remoteParent, undefined, 'the request span is the root of the trace');
      const enqueue = descendants(request).find((span) => span.name === 'enqueue TenantService.provisionTenant');
      assert.ok(enqueue, `'enqueue TenantService.provisionTenant' is under POST /api/tenants${context}`);
      assert.equal(enqueue.kind, 'PRODUCER');
      assert.deepEqual(stateEvents(enqueue), ['State Applied: Enqueued']);
      const continuation = descendants(request).find((span) => span.name === 'continue WelcomeService.sendWelcome');
      assert.ok(continuation, `'continue WelcomeService.sendWelcome' is under POST /api/tenants${context}`);
      assert.deepEqual(stateEvents(continuation), ['State Applied: Awaiting']);

      // Worker process: every attempt continues the trace, as a child of the span that created the job.
      const workerRoots: SpanNode[] = worker.get(job.traceId) ?? [];
      const underCreation = workerRoots.filter((root) => root.remoteParent === job.creationSpanId);
      const attempts = underCreation.filter((root) => root.name === 'process TenantService.provisionTenant');
      assert.equal(attempts.length, retried ? 2 : 1, `job ${job.id}: one 'process' span per attempt, under its enqueue span${context}`);
      for (const attempt of attempts) assert.equal(attempt.kind, 'CONSUMER');
      const last = attempts.at(-1)!;
      assert.equal(last.error, undefined, 'the last attempt succeeded');
      assert.deepEqual(stateEvents(last), ['State Applied: Processing', 'State Applied: Succeeded']);
      // The job's own work nests under its attempt: SQLite writes (manual spans) and the fetch to the stub.
      assert.deepEqual(
        last.children.map((span) => `${span.name} [${span.kind}]`),
        ['db.insert tenants [CLIENT]', 'POST [CLIENT]', 'db.insert tenant_settings [CLIENT]', 'db.update tenants [CLIENT]'],
      );

      if (retried) {
        const [first] = attempts;
        assert.match(first!.error ?? '', /storage for .*-flaky is not ready yet/, 'the first attempt failed with the storage error');
        assert.deepEqual(
          stateEvents(first!),
          ['State Applied: Processing', 'State Applied: Scheduled'],
          'the failed attempt was scheduled for a retry',
        );
        assert.ok(
          first!.events.some((event) => event.startsWith('exception: ')),
          'the failed attempt records the exception',
        );
        assert.ok(
          first!.children.some((span) => span.name === 'POST' && span.kind === 'CLIENT' && span.error !== undefined),
          'the failing fetch (503) is under the first attempt',
        );
        const promoted = underCreation.find((root) => root.name === 'transition TenantService.provisionTenant');
        assert.ok(promoted, `the retry's promotion is traced under the creation span${context}`);
        assert.deepEqual(stateEvents(promoted), ['State Applied: Enqueued']);
      }

      // The continuation runs in the same trace, once the tenant is provisioned.
      const welcome = welcomes.find((w) => w.traceId === job.traceId);
      assert.ok(welcome, `the welcome continuation of job ${job.id} belongs to its trace`);
      const sends = workerRoots.filter(
        (root) => root.remoteParent === welcome.creationSpanId && root.name === 'process WelcomeService.sendWelcome',
      );
      assert.equal(sends.length, 1, `one attempt of the continuation${context}`);
      assert.deepEqual(stateEvents(sends[0]!), ['State Applied: Processing', 'State Applied: Succeeded']);
      assert.deepEqual(
        sends[0]!.children.map((span) => span.name),
        ['db.select tenants', 'POST', 'db.insert audit_log'],
      );
    }

    // The in-process task: one BackgroundTask span under the request that started it.
    const scans = [...api.values()].flat().filter((root) => root.name === 'POST /api/scans');
    assert.equal(scans.length, 1, `one POST /api/scans request${context}`);
    const task = descendants(scans[0]!).find((span) => span.name === 'BackgroundTask.MetadataScanTask');
    assert.ok(task, `'BackgroundTask.MetadataScanTask' is under POST /api/scans${context}`);
    assert.equal(task.kind, 'INTERNAL');
    assert.equal(task.error, undefined);
    assert.equal(task.events[0], 'task.started');
    assert.equal(task.events.at(-1), 'task.completed');
    assert.ok(
      task.children.length >= 1 && task.children.every((span) => span.name.startsWith('db.select ')),
      'the scan’s SQLite reads nest under its span',
    );
    assert.match(
      stdout,
      /Scan \S+ \(GET \/api\/scans\/:id\): Completed in [\d.]+ ms, found \{"tenants":2,"active":2,"settings":6,"auditEvents":2\}/,
    );
  },
);

test('the API answers bad requests with 400 and a clear message, unknown ids with 404', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pilotlight-tenants-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const api = spawn(process.execPath, [join(EXAMPLE, 'api.ts')], {
    cwd: EXAMPLE,
    env: { ...consoleEnv(), OTEL_SDK_DISABLED: 'true', TENANTS_DATA_DIR: dataDir, TENANTS_API_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(api);
  let output = '';
  api.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  api.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    api.on('message', (message: { type?: string; port?: number }) => message.type === 'ready' && resolve({ port: message.port! }));
    api.on('exit', (code) => reject(new Error(`api exited with ${code} before it was ready:\n${output}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const send = async (method: string, path: string, body?: string) => {
    const response = await fetch(base + path, {
      method,
      ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body }),
    });
    return { status: response.status, body: (await response.json()) as { error?: string; jobId?: string } };
  };

  for (const body of ['{}', '{"tenantId":42}', '{"tenantId":""}', '{"tenantId":"Not Valid!"}', '[]']) {
    const answer = await send('POST', '/api/tenants', body);
    assert.equal(answer.status, 400, `POST /api/tenants ${body}`);
    assert.match(
      answer.body.error ?? '',
      /^tenantId must be a string of 1 to 63 lowercase letters, digits and inner dashes/,
      `POST /api/tenants ${body}`,
    );
  }
  const malformed = await send('POST', '/api/tenants', '{"tenantId":');
  assert.equal(malformed.status, 400);
  assert.match(malformed.body.error ?? '', /^Invalid request body: /);
  const badWait = await send('GET', '/api/jobs/1?waitMs=soon');
  assert.equal(badWait.status, 400);
  assert.match(badWait.body.error ?? '', /^waitMs must be an integer/);

  assert.deepEqual(await send('GET', '/api/jobs/999'), { status: 404, body: { error: "Job '999' not found" } });
  assert.deepEqual(await send('GET', '/api/scans/nope'), { status: 404, body: { error: "Scan 'nope' not found" } });

  const accepted = await send('POST', '/api/tenants', '{"tenantId":"acme"}');
  assert.equal(accepted.status, 202);
  const job = await send('GET', `/api/jobs/${accepted.body.jobId}`);
  assert.equal(job.status, 200);
  assert.equal((job.body as { state?: string }).state, 'Enqueued', 'no worker runs here: the job waits');

  api.kill('SIGTERM');
  const code = await new Promise((resolve) => api.once('exit', resolve));
  running.delete(api);
  assert.equal(code, 0, `the API stops cleanly on SIGTERM:\n${output}`);
});

test(
  'npm start -- --keep-running keeps the processes up with the dashboard at the printed URL until Ctrl-C',
  { timeout: RUN_TIMEOUT },
  async (t) => {
    // A process group of its own, as a terminal gives a command: Ctrl-C signals the whole group.
    const demo = spawn('npm', ['start', '--', '--keep-running'], {
      cwd: ROOT,
      env: consoleEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    t.after(() => {
      try {
        process.kill(-demo.pid!, 'SIGKILL'); // whatever of the group is left after a failure
      } catch {
        // ESRCH: the group is gone, as it should be
      }
    });
    let output = '';
    const closed = new Promise<void>((resolve) => demo.once('close', () => resolve()));
    const kept = new Promise<string>((resolve, reject) => {
      demo.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const url = /demo\s*│ The processes keep running: open the dashboard at (\S+) \(Ctrl-C stops them\)\./.exec(output)?.[1];
        if (url) resolve(url);
      });
      demo.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      void closed.then(() => reject(new Error(`the demo exited before it said it keeps running:\n${output}`)));
    });
    const url = await kept;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(output, new RegExp(`demo\\s*│ Dashboard: ${url}\n`), `the URL is printed when the dashboard is up:\n${output}`);

    // The dashboard process shows the demo's jobs (all four succeeded).
    const overview = await fetch(url);
    assert.equal(overview.status, 200);
    assert.match(overview.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const succeeded = await fetch(`${url}jobs?state=Succeeded`);
    const page = await succeeded.text();
    assert.equal(succeeded.status, 200);
    for (const job of ['TenantService.provisionTenant', 'WelcomeService.sendWelcome']) {
      assert.ok(page.includes(job), `the Succeeded page lists ${job}`);
    }

    // Ctrl-C: SIGINT to the terminal's process group (npm and the runner; npm exits at once, as in a
    // terminal). The runner stops the four processes, which flush their telemetry, and says Done once
    // every one exited with 0. `close`: the runner, which holds the output, has exited too.
    process.kill(-demo.pid!, 'SIGINT');
    await closed;
    assert.match(output, /demo\s*│ Done\.$/m, `the demo stops cleanly on Ctrl-C:\n${output}`);
    assert.doesNotMatch(output, /exited with/);
  },
);
