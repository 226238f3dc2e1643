/**
 * What the command-line tests share: the `pilotlight` command run as a real process (this Node.js,
 * the repository's `@pilotlight/source` condition, so `src/cli/main.ts` itself), a store seeded
 * through the public API, and the dashboard command started and stopped with a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { createClient, createWorker, defineJob, silentLogger, type Store } from 'pilotlight';
import { waitFor } from '../../pilotlight/test/support/wait.ts';

export const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** The environment of the commands: this process's, without DATABASE_URL unless `env` gives one. */
function cliEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _notImplied, ...rest } = process.env;
  return { ...rest, ...env };
}

/** Starts `pilotlight <args>` with its output piped (stdout is not a terminal). */
export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess & { output: CliResult; exited: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--conditions=@pilotlight/source', CLI, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const output = { code: null as number | null, signal: null as NodeJS.Signals | null, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      output.code = code;
      output.signal = signal;
      resolve({ ...output });
    });
  });
  return Object.assign(child, { output, exited });
}

/** Runs `pilotlight <args>` to its end (killed after `timeout` ms). */
export async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeout = 30_000): Promise<CliResult> {
  const child = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Both streams and the exit code, for assertion messages. */
export function shown(result: CliResult): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** The JSON document a `--json` command printed. */
export function parsed<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`expected one JSON document on stdout\n${shown(result)}`);
  }
}

/** `pilotlight dashboard <args>` started; resolves once it printed its URL. */
export async function startDashboard(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = startCli(['dashboard', ...args], env);
  let done = false;
  void child.exited.then(() => (done = true));
  const url = await waitFor(
    () => {
      // The whole line: a chunk may end inside the URL.
      const match = /^Pilotlight dashboard: (http:\/\/\S+)\n/m.exec(child.output.stdout)?.[1];
      if (match === undefined && done) throw new Error(`the dashboard exited before printing its URL\n${shown(child.output)}`);
      return match;
    },
    'the dashboard to print its URL',
    15_000,
  );
  return { child, url };
}

/** What the seeded store holds: one job in each state but Processing, and a recurring job. */
export interface Seeded {
  readonly succeeded: string;
  /** Failed with a TypeError, no retry. */
  readonly failed: string;
  /** Due in an hour. */
  readonly scheduled: string;
  /** In the queue `emails`, which no worker takes: waiting, with metadata. */
  readonly enqueued: string;
  readonly deleted: string;
  /** A continuation of `scheduled`. */
  readonly awaiting: string;
  readonly recurringId: string;
}

export const FAILURE = 'the mail server said no';

const greet = defineJob('app.greet', async (args: { name: string }) => `hello ${args.name}`);
const flaky = defineJob(
  'app.flaky',
  async () => {
    throw new TypeError(FAILURE);
  },
  { retry: { attempts: 1 } },
);
const email = defineJob('app.email', async (_args: { to: string }) => {}, { queue: 'emails' });

/**
 * Seeds `store` through a client and a worker, then leaves a worker running on a queue of its own
 * (`idle`, no job in it), so that one worker is alive and nothing the commands change runs; `stop`
 * stops it.
 */
export async function seed(store: Store<unknown>): Promise<{ ids: Seeded; stop(): Promise<void> }> {
  const client = createClient({ store, logger: silentLogger });
  const succeeded = await client.enqueue(greet, { name: 'Ada' });
  const failed = await client.enqueue(flaky, undefined);
  const scheduled = await client.schedule(greet, { name: 'Grace' }, { delay: 3_600_000 });
  const enqueued = await client.enqueue(email, { to: 'ops@example.com' }, { metadata: { tenant: 'acme' } });
  const runner = createWorker({ store, jobs: [greet, flaky], pollInterval: 20, maintenanceInterval: 20, logger: silentLogger });
  await runner.start();
  await waitFor(async () => {
    const states = await Promise.all([succeeded, failed].map(async (id) => (await client.getJob(id))?.state));
    return states[0] === 'Succeeded' && states[1] === 'Failed';
  }, 'the seeded jobs to finish');
  await runner.stop();
  const deleted = await client.enqueue(greet, { name: 'Linus' });
  await client.delete(deleted);
  const awaiting = await client.continueWith(scheduled, greet, { name: 'Barbara' });
  const recurringId = 'digest';
  await client.recurring.addOrUpdate(recurringId, '0 6 * * *', greet, { name: 'team' }, { timeZone: 'Europe/Paris' });
  const idle = createWorker({ store, jobs: [greet], queues: ['idle'], heartbeatInterval: 100, logger: silentLogger });
  await idle.start();
  return { ids: { succeeded, failed, scheduled, enqueued, deleted, awaiting, recurringId }, stop: () => idle.stop() };
}

/** What `seedFlowControl()` adds. */
export interface SeededFlowControl {
  readonly batchId: string;
  /** The batch's member, in `emails`: a concurrency key `tenant-acme` (limit 2), a rate limit `smtp` (5 per minute). */
  readonly member: string;
  /** Awaits the batch, `when: 'finished'`. */
  readonly continuation: string;
  /** Scheduled in an hour, with the debounce key `greet-debby`. */
  readonly debounced: string;
}

/**
 * Adds jobs with flow control and a batch to a seeded store (no worker takes them), pauses `emails`
 * and limits `reports`, a queue without a job.
 */
export async function seedFlowControl(store: Store<unknown>): Promise<SeededFlowControl> {
  const client = createClient({ store, logger: silentLogger });
  const { batchId, ids } = await client.batch([
    {
      job: email,
      args: { to: 'batch@example.com' },
      options: { concurrency: { key: 'tenant-acme', limit: 2 }, rateLimit: { key: 'smtp', max: 5, per: 60_000 } },
    },
  ]);
  const continuation = await client.continueWhenAll(batchId, greet, { name: 'Team' }, { when: 'finished' });
  const debounced = await client.enqueue(greet, { name: 'Debby' }, { debounce: { key: 'greet-debby', delay: 3_600_000 } });
  await client.queues.pause('emails');
  await client.queues.setConcurrencyLimit('reports', 3);
  await client.queues.setRateLimit('reports', { max: 10, per: 500 });
  return { batchId, member: ids[0]!, continuation, debounced };
}
