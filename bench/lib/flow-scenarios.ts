import type * as Pilotlight from '../../packages/pilotlight/src/index.ts';
import { sleep } from './clock.ts';
import { stopwatch, throughput, type ThroughputResult } from './scenarios.ts';
import type { BenchTarget } from './target.ts';

/**
 * The flow-control bench's one scenario: a worker works off a backlog of no-op jobs, with or
 * without a concurrency key on each. Written against the library it is given (`FlowLibrary`), not
 * against an import of its own, so the same code measures the current checkout and an older one
 * (a git worktree of the baseline revision, see `flow-worktree.ts`).
 */

/** What the scenario uses of Pilotlight: the current checkout's module, or an older revision's (same names, same shapes). */
export type FlowLibrary = Pick<typeof Pilotlight, 'createClient' | 'createWorker' | 'defineJob' | 'silentLogger'>;

export interface BacklogRun {
  readonly jobs: number;
  readonly concurrency: number;
  /**
   * Distinct concurrency keys, each with limit 1, spread over the jobs round-robin (job n has key
   * `key-${n % keys}`); 0: jobs without any flow-control option.
   */
  readonly keys: number;
}

/** How often the store is asked whether every job has finished, in ms. */
const POLL_MS = 10;
/** Enqueued per `enqueueMany()` call while the untimed backlog is built. */
const CHUNK = 1_000;

/**
 * `run.jobs` no-op jobs enqueued (untimed), then one worker at `run.concurrency`: timed from
 * `worker.start()` until the store shows every job Succeeded (`countJobs()` polled every 10 ms, the
 * way an outside observer sees the work done; the poll costs every configuration alike).
 */
export async function processUntilDone(lib: FlowLibrary, target: BenchTarget, run: BacklogRun): Promise<ThroughputResult> {
  const db = await target.createDatabase();
  try {
    const { store } = db;
    const client = lib.createClient({ store, logger: lib.silentLogger });
    const job =
      run.keys === 0
        ? lib.defineJob('bench.noop', async (_args: { n: number }) => {})
        : lib.defineJob('bench.noop-keyed', async (_args: { n: number }) => {}, {
            concurrency: { key: (args: { n: number }) => `key-${args.n % run.keys}`, limit: 1 },
          });
    let firstId: string | undefined;
    for (let from = 0; from < run.jobs; from += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, run.jobs - from) }, (_, i) => ({ n: from + i }));
      const ids = await client.enqueueMany(job, chunk);
      firstId ??= ids[0];
    }
    // A checkout that ignored the option would measure jobs without keys under the keys' label.
    const stored = (await client.getJob(firstId!)) as { concurrency?: { key: string } } | undefined;
    if (run.keys > 0 && stored?.concurrency?.key !== 'key-0') throw new Error(`the jobs were stored without their concurrency key`);
    const worker = lib.createWorker({ store, jobs: [job], concurrency: run.concurrency, logger: lib.silentLogger });
    const clock = stopwatch();
    await worker.start();
    let elapsed: ReturnType<ReturnType<typeof stopwatch>['stop']>;
    try {
      const deadline = performance.now() + 300_000;
      for (;;) {
        const counts = await client.countJobs();
        if (counts.Succeeded === run.jobs) {
          elapsed = clock.stop();
          break;
        }
        if (counts.Failed > 0 || counts.Deleted > 0) throw new Error(`jobs failed or were deleted: ${JSON.stringify(counts)}`);
        if (performance.now() > deadline) throw new Error(`processing ${run.jobs} jobs: not done after 300 s: ${JSON.stringify(counts)}`);
        await sleep(POLL_MS);
      }
    } finally {
      await worker.stop();
    }
    return throughput(run.jobs, elapsed);
  } finally {
    await db.destroy();
  }
}
