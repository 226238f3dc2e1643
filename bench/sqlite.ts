/**
 * Pilotlight benchmark on the embedded SQLite store.
 *
 *   node bench/sqlite.ts            full run, 3 runs per scenario (75-90 s on 2 cores)
 *   node bench/sqlite.ts --quick    small counts, one run: a smoke test
 *   node bench/sqlite.ts --runs 5   more runs per scenario (the median is reported)
 *   node bench/sqlite.ts --only processing,pickup
 *                                   scenarios whose key starts with one of these:
 *                                   enqueue-one, enqueue-bulk, processing-c1, processing-c10,
 *                                   processing-c50, pickup-same, pickup-cross
 *
 * Exits 1 if a target is missed (see TARGETS), 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { runBenchmark, type Scenario } from './lib/runner.ts';
import { enqueueBulk, enqueueOneByOne, pickupCrossProcess, pickupSameProcess, processBacklog, type PickupOptions } from './lib/scenarios.ts';
import { sqliteTarget } from './lib/sqlite-target.ts';

const TARGETS = {
  enqueueOne: 15_000, // jobs/s
  enqueueBulk: 50_000, // jobs/s
  processingC10: 25_000, // jobs/s
  pickupSameP50: 1, // ms
  pickupCrossP50: 5, // ms
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node bench/sqlite.ts [--quick] [--runs N] [--only key1,key2]');
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
  : // Concurrency 1 is the slowest by far and has no target: fewer jobs keep the run under ~3 minutes.
    { enqueueOne: 20_000, enqueueBulk: 100_000, batch: 1_000, processing: { 1: 20_000, 10: 50_000, 50: 50_000 }, samples: 500, warmup: 30 };
const pickup: PickupOptions = { samples: counts.samples, warmup: counts.warmup, spacingMs: 3 };

const target = sqliteTarget;
const all: (Scenario & { key: string })[] = [
  {
    key: 'enqueue-one',
    kind: 'throughput',
    label: 'enqueue, one at a time (await enqueue)',
    jobs: counts.enqueueOne,
    target: TARGETS.enqueueOne,
    run: () => enqueueOneByOne(target, counts.enqueueOne),
  },
  {
    key: 'enqueue-bulk',
    kind: 'throughput',
    label: `enqueue, bulk (enqueueMany x ${counts.batch.toLocaleString('en-US')})`,
    jobs: counts.enqueueBulk,
    target: TARGETS.enqueueBulk,
    run: () => enqueueBulk(target, counts.enqueueBulk, counts.batch),
  },
  ...([1, 10, 50] as const).map(
    (concurrency): Scenario & { key: string } => ({
      key: `processing-c${concurrency}`,
      kind: 'throughput',
      label: `process no-op jobs, 1 worker, concurrency ${concurrency}`,
      jobs: counts.processing[concurrency],
      ...(concurrency === 10 && { target: TARGETS.processingC10 }),
      run: () => processBacklog(target, counts.processing[concurrency], concurrency),
    }),
  ),
  {
    key: 'pickup-same',
    kind: 'latency',
    label: 'same process (shared store)',
    samples: pickup.samples,
    targetP50: TARGETS.pickupSameP50,
    run: () => pickupSameProcess(target, pickup),
  },
  {
    key: 'pickup-cross',
    kind: 'latency',
    label: 'across processes (worker child, same file)',
    samples: pickup.samples,
    targetP50: TARGETS.pickupCrossP50,
    run: () => pickupCrossProcess(target, pickup),
  },
];

const only = values.only?.split(',').map((key) => key.trim()).filter(Boolean);
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
  warmups: [
    () => enqueueOneByOne(target, 1_000),
    () => enqueueBulk(target, 2_000, 1_000),
    () => processBacklog(target, 2_000, 10),
  ],
  notes: [
    `Processing: measured from worker.start() to the last job's onPerformed (after its Succeeded state is stored).`,
    `Latency: from just before client.enqueue() to the handler's first line; ${pickup.warmup} warm-up samples dropped, ${pickup.spacingMs} ms between samples.`,
  ],
});
process.exitCode = met ? 0 : 1;
