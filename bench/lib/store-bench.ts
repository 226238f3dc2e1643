import { parseArgs } from 'node:util';
import { runBenchmark, type Scenario, type ThroughputScenario } from './runner.ts';
import {
  enqueueBulk,
  enqueueOneByOne,
  pickupCrossProcess,
  pickupSameProcess,
  processBacklog,
  type PickupOptions,
  type ThroughputOptions,
} from './scenarios.ts';
import type { BenchTarget } from './target.ts';

/**
 * The store benchmark every store runs (`bench/sqlite.ts`, `bench/postgres.ts`): the same scenarios,
 * the same table, the store's own targets. Parses the command line, runs, sets the exit code: 1 if a
 * target is missed, 2 on bad arguments.
 */

/** A store's targets; a row without one is measured and shown, not judged. */
export interface StoreTargets {
  readonly enqueueOne?: number; // jobs/s
  readonly enqueueBulk?: number; // jobs/s
  readonly processingC10: number; // jobs/s, concurrency 10 with prefetch
  readonly pickupSameP50: number; // ms
  readonly pickupCrossP50: number; // ms
}

export interface StoreBenchOptions {
  readonly target: BenchTarget;
  readonly script: string;
  readonly targets: StoreTargets;
  /** Label of the cross-process latency row, e.g. 'across processes (worker child, same file)'. */
  readonly crossProcessLabel: string;
  /**
   * Adds the scenario `processing-c10-prefetch-finished`: the target row with this many finished jobs
   * already in the table, which must stay within `slowdown` (e.g. 0.1) of it.
   */
  readonly finishedJobs?: { readonly count: number; readonly quickCount: number; readonly slowdown: number };
  readonly notes?: readonly string[];
}

type KeyedScenario = Scenario & { key: string };

export async function runStoreBench(options: StoreBenchOptions): Promise<void> {
  const { target, targets } = options;
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: node ${options.script} [--quick] [--runs N] [--only key1,key2]`);
    process.exit(0);
  }

  const quick = values.quick;
  const runs = values.runs === undefined ? (quick ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`--runs must be a positive integer; received ${values.runs}`);
    process.exit(2);
  }
  const counts = quick
    ? { enqueueOne: 2_000, enqueueBulk: 10_000, batch: 1_000, processing: { 1: 2_000, 10: 5_000, 50: 5_000 }, samples: 100, warmup: 10 }
    : // Concurrency 1 is the slowest by far and has no target: fewer jobs keep the run short.
      {
        enqueueOne: 20_000,
        enqueueBulk: 100_000,
        batch: 1_000,
        processing: { 1: 20_000, 10: 50_000, 50: 50_000 },
        samples: 500,
        warmup: 30,
      };
  const pickup: PickupOptions = { samples: counts.samples, warmup: counts.warmup, spacingMs: 3 };

  const PREFETCH = 40;
  const processingRow = (key: string, label: string, concurrency: 1 | 10 | 50, options: ThroughputOptions = {}) =>
    ({
      key,
      kind: 'throughput',
      label,
      jobs: counts.processing[concurrency],
      run: () => processBacklog(target, counts.processing[concurrency], concurrency, options),
    }) satisfies ThroughputScenario & { key: string };
  // The target row: concurrency 10 with prefetch, the batching graphile-worker's figures use too.
  const prefetched = {
    ...processingRow('processing-c10-prefetch', `concurrency 10, prefetch ${PREFETCH}`, 10, { prefetch: PREFETCH }),
    target: targets.processingC10,
  };
  const finished = options.finishedJobs;
  const finishedCount = finished && (quick ? finished.quickCount : finished.count);
  const all: KeyedScenario[] = [
    {
      key: 'enqueue-one',
      kind: 'throughput',
      label: 'enqueue, one at a time (await enqueue)',
      jobs: counts.enqueueOne,
      target: targets.enqueueOne,
      run: () => enqueueOneByOne(target, counts.enqueueOne),
    },
    {
      key: 'enqueue-bulk',
      kind: 'throughput',
      label: `enqueue, bulk (enqueueMany x ${counts.batch.toLocaleString('en-US')})`,
      jobs: counts.enqueueBulk,
      target: targets.enqueueBulk,
      run: () => enqueueBulk(target, counts.enqueueBulk, counts.batch),
    },
    processingRow('processing-c1', 'process no-op jobs, 1 worker, concurrency 1', 1),
    processingRow('processing-c10', 'process no-op jobs, 1 worker, concurrency 10', 10),
    prefetched,
    processingRow('processing-c50', 'process no-op jobs, 1 worker, concurrency 50', 50),
    ...(finished && finishedCount
      ? [
          {
            ...processingRow(
              'processing-c10-prefetch-finished',
              `concurrency 10, prefetch ${PREFETCH}, ${finishedCount.toLocaleString('en-US')} finished jobs in the table`,
              10,
              { prefetch: PREFETCH, finishedJobs: finishedCount },
            ),
            relativeTarget: { baseline: prefetched, maxSlowdown: finished.slowdown },
          },
        ]
      : []),
    {
      key: 'pickup-same',
      kind: 'latency',
      label: 'same process (shared store)',
      samples: pickup.samples,
      targetP50: targets.pickupSameP50,
      run: () => pickupSameProcess(target, pickup),
    },
    {
      key: 'pickup-cross',
      kind: 'latency',
      label: options.crossProcessLabel,
      samples: pickup.samples,
      targetP50: targets.pickupCrossP50,
      run: () => pickupCrossProcess(target, pickup),
    },
  ];

  const only = values.only
    ?.split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  const scenarios = only ? all.filter((scenario) => only.some((prefix) => scenario.key.startsWith(prefix))) : all;
  if (scenarios.length === 0) {
    console.error(`--only ${values.only} matches no scenario; keys: ${all.map((scenario) => scenario.key).join(', ')}`);
    process.exit(2);
  }

  const met = await runBenchmark({
    title: `Pilotlight benchmark: ${target.name} store${quick ? ' (--quick)' : ''}`,
    target,
    scenarios,
    runs,
    // Warm the JIT on the hot paths (not counted), so the first measured run is not the slow one.
    warmups: [() => enqueueOneByOne(target, 1_000), () => enqueueBulk(target, 2_000, 1_000), () => processBacklog(target, 2_000, 10)],
    notes: [
      `Processing: measured from worker.start() to the last job's onPerformed (after its Succeeded state is stored).`,
      `Latency: from just before client.enqueue() to the handler's first line; ${pickup.warmup} warm-up samples dropped, ${pickup.spacingMs} ms between samples.`,
      ...(options.notes ?? []),
    ],
  });
  process.exitCode = met ? 0 : 1;
}
