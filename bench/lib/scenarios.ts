import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createClient,
  createWorker,
  silentLogger,
  type JobFilter,
  type MetricsOptions,
  type TracingOptions,
} from '../../packages/pilotlight/src/index.ts';
import { epochNow, sleep } from './clock.ts';
import type { ChildMessage, ParentMessage } from './ipc.ts';
import { noopJob, probeJob } from './jobs.ts';
import { summarize, type LatencySummary } from './stats.ts';
import type { BenchDatabase, BenchTarget } from './target.ts';

/**
 * The scenarios, written against `BenchTarget` so every store's bench runs the same ones. Each run
 * gets a fresh database, destroyed afterwards.
 */

export interface ThroughputResult {
  readonly jobs: number;
  /** Wall-clock time of the timed part. */
  readonly ms: number;
  readonly perSecond: number;
  /** CPU time (user + system) this process spent in the timed part: less sensitive to a busy machine. */
  readonly cpuMs: number;
}

export interface LatencyResult extends LatencySummary {
  /** Cross-process only: the child's clock minus ours, already subtracted from the samples. */
  readonly clockOffsetMs?: number;
}

async function withDatabase<T>(target: BenchTarget, work: (db: BenchDatabase) => Promise<T>): Promise<T> {
  const db = await target.createDatabase();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/**
 * Optional settings of `enqueueOneByOne()` and `processBacklog()` (used by the tracing bench); left
 * out, both run with Pilotlight's defaults, as in the SQLite bench.
 */
export interface ThroughputOptions {
  /** `tracing` option of the client that enqueues (for `processBacklog()`, the untimed backlog). */
  readonly clientTracing?: TracingOptions;
  /** `tracing` option of the worker (`processBacklog()`). */
  readonly workerTracing?: TracingOptions;
  /** `metrics` option of the client and of the worker. */
  readonly metrics?: MetricsOptions;
  /** Awaited after the untimed setup, just before the clock starts (e.g. to flush the setup's spans). */
  readonly beforeTimed?: () => Promise<void>;
  /** `prefetch` option of the worker (`processBacklog()`). @default 0 */
  readonly prefetch?: number;
  /** `processBacklog()`: finished jobs already in the table before the backlog is enqueued (untimed). */
  readonly finishedJobs?: number;
}

/** Starts the clocks of a timed part; `stop()` (or `stop(endedAt)`, a `performance.now()` taken earlier) reads them. */
export function stopwatch(): { stop(endedAt?: number): { ms: number; cpuMs: number } } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  return {
    stop(endedAt = performance.now()) {
      const used = process.cpuUsage(cpu);
      return { ms: endedAt - start, cpuMs: (used.user + used.system) / 1000 };
    },
  };
}

export function throughput(jobs: number, { ms, cpuMs }: { ms: number; cpuMs: number }): ThroughputResult {
  return { jobs, ms, perSecond: (jobs / ms) * 1000, cpuMs };
}

/** Rejects if `promise` has not settled within `ms` (the timer does not keep the process alive). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `jobs` sequential `await client.enqueue()` calls. */
export function enqueueOneByOne(target: BenchTarget, jobs: number, options: ThroughputOptions = {}): Promise<ThroughputResult> {
  return withDatabase(target, async ({ store }) => {
    const client = createClient({ store, logger: silentLogger, tracing: options.clientTracing, metrics: options.metrics });
    await options.beforeTimed?.();
    const clock = stopwatch();
    for (let i = 0; i < jobs; i++) await client.enqueue(noopJob, undefined);
    const elapsed = clock.stop();
    await expectCount(client, 'Enqueued', jobs);
    return throughput(jobs, elapsed);
  });
}

/** `jobs` jobs through `client.enqueueMany()`, `batch` per call. */
export function enqueueBulk(target: BenchTarget, jobs: number, batch: number): Promise<ThroughputResult> {
  return withDatabase(target, async ({ store }) => {
    const client = createClient({ store, logger: silentLogger });
    const args = new Array<undefined>(batch).fill(undefined);
    const clock = stopwatch();
    for (let done = 0; done < jobs; done += batch) {
      await client.enqueueMany(noopJob, done + batch <= jobs ? args : args.slice(0, jobs - done));
    }
    const elapsed = clock.stop();
    await expectCount(client, 'Enqueued', jobs);
    return throughput(jobs, elapsed);
  });
}

/**
 * One worker working off `jobs` pre-enqueued no-op jobs at `concurrency`: timed from `worker.start()`
 * until the last attempt's `onPerformed` (which runs after its Succeeded state is stored); a filter
 * counts them, so nothing polls the database while the clock runs. Verified with `countJobs()`.
 */
export function processBacklog(
  target: BenchTarget,
  jobs: number,
  concurrency: number,
  options: ThroughputOptions = {},
): Promise<ThroughputResult> {
  return withDatabase(target, async (db) => {
    const { store } = db;
    if (options.finishedJobs) {
      if (!db.seedFinishedJobs) throw new Error(`The ${target.name} bench target cannot seed finished jobs`);
      await db.seedFinishedJobs(options.finishedJobs);
    }
    const client = createClient({ store, logger: silentLogger, tracing: options.clientTracing, metrics: options.metrics });
    const args = new Array<undefined>(1000).fill(undefined);
    for (let done = 0; done < jobs; done += args.length) {
      await client.enqueueMany(noopJob, args.slice(0, Math.min(args.length, jobs - done)));
    }
    let performed = 0;
    let finish: (at: number) => void = () => undefined;
    const finished = new Promise<number>((resolve) => (finish = resolve));
    const counter: JobFilter = {
      onPerformed() {
        if (++performed === jobs) finish(performance.now());
      },
    };
    const worker = createWorker({
      store,
      jobs: [noopJob],
      concurrency,
      prefetch: options.prefetch,
      logger: silentLogger,
      filters: [counter],
      tracing: options.workerTracing,
      metrics: options.metrics,
    });
    await options.beforeTimed?.();
    const clock = stopwatch();
    await worker.start();
    let elapsed: { ms: number; cpuMs: number };
    try {
      elapsed = clock.stop(await within(finished, 300_000, `processing ${jobs} jobs at concurrency ${concurrency}`));
    } finally {
      await worker.stop();
    }
    await expectCount(client, 'Succeeded', jobs + (options.finishedJobs ?? 0));
    return throughput(jobs, elapsed);
  });
}

export interface PickupOptions {
  readonly samples: number;
  /** Samples taken first and dropped (JIT, caches). */
  readonly warmup: number;
  /** Pause after each job started, so the worker is idle again at the next enqueue. */
  readonly spacingMs: number;
  /** Of the worker. @default 10 */
  readonly concurrency?: number;
}

/**
 * Enqueue-to-start latency with an idle worker in this process, sharing the client's store: from just
 * before `client.enqueue()` to the first line of the handler.
 */
export function pickupSameProcess(target: BenchTarget, options: PickupOptions): Promise<LatencyResult> {
  return withDatabase(target, async ({ store }) => {
    const client = createClient({ store, logger: silentLogger });
    let onStart: (startedAt: number) => void = () => undefined;
    const probe = probeJob((_args, startedAt) => onStart(startedAt));
    const worker = createWorker({ store, jobs: [probe], concurrency: options.concurrency ?? 10, logger: silentLogger });
    await worker.start();
    const latencies: number[] = [];
    try {
      await sleep(50); // let the first maintenance pass go by
      for (let seq = 0; seq < options.warmup + options.samples; seq++) {
        const started = new Promise<number>((resolve) => (onStart = resolve));
        const enqueuedAt = epochNow();
        await client.enqueue(probe, { seq, enqueuedAt });
        const startedAt = await within(started, 10_000, `probe job ${seq}`);
        if (seq >= options.warmup) latencies.push(startedAt - enqueuedAt);
        await sleep(options.spacingMs);
      }
    } finally {
      await worker.stop();
    }
    return summarize(latencies);
  });
}

/**
 * Enqueue-to-start latency with an idle worker in another process on the same database: this process
 * enqueues, the child (`fixtures/pickup-worker.ts`) stamps the handler's start with its own clock.
 * The offset between the two clocks is measured first (IPC ping with the shortest round trip) and
 * subtracted.
 */
export function pickupCrossProcess(target: BenchTarget, options: PickupOptions): Promise<LatencyResult> {
  return withDatabase(target, async ({ store, childConfig }) => {
    const client = createClient({ store, logger: silentLogger });
    const probe = probeJob(() => {
      throw new Error('the probe runs in the child process');
    });
    const child = new WorkerChild(target.moduleUrl, childConfig, options.concurrency ?? 10);
    const latencies: number[] = [];
    let clockOffsetMs = 0;
    try {
      await within(child.next('ready'), 30_000, 'worker child start');
      clockOffsetMs = await child.clockOffset(50);
      await sleep(50);
      for (let seq = 0; seq < options.warmup + options.samples; seq++) {
        const started = child.next('started');
        const enqueuedAt = epochNow();
        await client.enqueue(probe, { seq, enqueuedAt });
        const message = await within(started, 10_000, `probe job ${seq} in the worker child`);
        if (message.seq !== seq) throw new Error(`expected probe ${seq} to start, got ${message.seq}`);
        if (seq >= options.warmup) latencies.push(message.startedAt - clockOffsetMs - enqueuedAt);
        await sleep(options.spacingMs);
      }
      await sleep(options.spacingMs + 5); // the last probe's Succeeded state
    } finally {
      await child.stop();
    }
    await expectCount(client, 'Succeeded', options.warmup + options.samples);
    return { ...summarize(latencies), clockOffsetMs };
  });
}

type MessageOf<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** The worker child and its IPC channel. */
class WorkerChild {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<ChildMessage['type'], (message: ChildMessage) => void>();
  #failure: Error | undefined;

  constructor(moduleUrl: string, config: unknown, concurrency: number) {
    const script = fileURLToPath(new URL('../fixtures/pickup-worker.ts', import.meta.url));
    // No execArgv from this process: a profiled bench (--cpu-prof) must not profile the child too.
    this.#child = fork(script, [moduleUrl, JSON.stringify(config), String(concurrency)], {
      execArgv: ['--no-warnings'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (message: ChildMessage) => {
      if (message.type === 'error') return this.#fail(new Error(`worker child failed: ${message.message}`));
      const waiter = this.#waiting.get(message.type);
      this.#waiting.delete(message.type);
      waiter?.(message);
    });
    this.#child.on('exit', (code) => this.#fail(new Error(`worker child exited (code ${code})`)));
  }

  /** The next message of this type. */
  next<T extends ChildMessage['type']>(type: T): Promise<MessageOf<T>> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting.set(type, (message) => (message.type === 'error' ? reject(this.#failure) : resolve(message as MessageOf<T>)));
    });
  }

  /** Child clock minus ours, in ms, from the ping with the shortest round trip. */
  async clockOffset(pings: number): Promise<number> {
    let best = { rtt: Infinity, offset: 0 };
    for (let id = 0; id < pings; id++) {
      const pong = this.next('pong');
      const sentAt = epochNow();
      this.#send({ type: 'ping', id });
      const { at } = await within(pong, 5_000, 'clock ping');
      const receivedAt = epochNow();
      if (receivedAt - sentAt < best.rtt) best = { rtt: receivedAt - sentAt, offset: at - (sentAt + receivedAt) / 2 };
    }
    return best.offset;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#failure) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#send({ type: 'stop' });
    try {
      await within(exited, 20_000, 'worker child stop');
    } catch {
      this.#child.kill();
    }
  }

  #send(message: ParentMessage): void {
    this.#child.send(message);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.values()) waiter({ type: 'error', message: error.message });
    this.#waiting.clear();
  }
}

async function expectCount(client: ReturnType<typeof createClient>, state: 'Enqueued' | 'Succeeded', expected: number): Promise<void> {
  const counts = await client.countJobs();
  if (counts[state] !== expected) {
    throw new Error(`expected ${expected} ${state} jobs, found ${JSON.stringify(counts)}`);
  }
}
