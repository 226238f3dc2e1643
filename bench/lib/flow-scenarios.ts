import type * as Pilotlight from '../../packages/pilotlight/src/index.ts';
import { sleep } from './clock.ts';
import { stopwatch, throughput, within, type ThroughputResult } from './scenarios.ts';
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

/** Enqueued per `enqueueMany()` call while the untimed backlog is built. */
const CHUNK = 1_000;

/**
 * `run.jobs` no-op jobs enqueued (untimed), then one worker at `run.concurrency`: timed from
 * `worker.start()` until the store shows every job Succeeded. The store is asked (`countJobs()`)
 * only once a filter has seen the last attempt performed, then every millisecond until it agrees:
 * polling it all along would cost each checkout what its `countJobs()` costs, which is not what
 * is measured.
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
    let performed = 0;
    let allPerformed: () => void = () => undefined;
    const lastPerformed = new Promise<void>((resolve) => (allPerformed = resolve));
    const counter: Pilotlight.JobFilter = {
      onPerformed() {
        if (++performed === run.jobs) allPerformed();
      },
    };
    const worker = lib.createWorker({ store, jobs: [job], concurrency: run.concurrency, logger: lib.silentLogger, filters: [counter] });
    const clock = stopwatch();
    await worker.start();
    let elapsed: ReturnType<ReturnType<typeof stopwatch>['stop']>;
    try {
      await within(lastPerformed, 300_000, `processing ${run.jobs} jobs`);
      for (let polls = 0; ; polls++) {
        const counts = await client.countJobs();
        if (counts.Succeeded === run.jobs) {
          elapsed = clock.stop();
          break;
        }
        if (polls === 5_000) throw new Error(`every job performed, but the store shows ${JSON.stringify(counts)}`);
        await sleep(1);
      }
    } finally {
      await worker.stop();
    }
    return throughput(run.jobs, elapsed);
  } finally {
    await db.destroy();
  }
}
