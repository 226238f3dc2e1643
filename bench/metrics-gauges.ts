/**
 * What Pilotlight's store-wide metrics gauges (`pilotlight.jobs`, `pilotlight.queue.lag`,
 * `pilotlight.workers`) cost per collection with a million finished jobs in the store, on SQLite and
 * on PostgreSQL. Two timed paths per store:
 *   store read   `readStoreFigures(store, now)` called again and again: the store reads behind one
 *                collection (`queueStats()` and `listServers()`), without the gauges' 1 s cache
 *   collection   `reader.collect()` of a `MeterProvider` (@opentelemetry/sdk-metrics) whose only
 *                reader is collected on demand, with a worker started on the store and that provider
 *                (which registers the gauges as in production); each timed collection waits out the
 *                gauges' 1 s cache first, and is checked to have read the store exactly once
 * Target: p95 ≤ 5 ms on both paths, both stores.
 *
 *   node bench/metrics-gauges.ts              both stores, 1,000,000 finished jobs, 200 reads and 30 collections a store
 *   node bench/metrics-gauges.ts --quick      100,000 finished jobs, 20 reads and 3 collections (about 15 s once seeded)
 *   node bench/metrics-gauges.ts --store sqlite --finished 300000 --reads 500 --collections 60
 *   node bench/metrics-gauges.ts --fresh      seed again (the seeded store is kept between runs)
 *
 * Seeding (lib/metrics-seed.ts) goes through the `Store` interface, so the counters the gauges read
 * are the engine's own: about 30 s on SQLite and a minute on PostgreSQL for a million jobs. The
 * PostgreSQL table is vacuumed and analyzed after seeding, as autovacuum leaves a live server's.
 * PostgreSQL: PILOTLIGHT_BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 * Exits 1 if a target is missed, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import type { StateName } from '../packages/pilotlight/src/index.ts';
import { formatInt, formatMs } from './lib/format.ts';
import { printMachine } from './lib/machine.ts';
import { CACHE_EXPIRY_WAIT_MS, timeCollections, timeStoreReads } from './lib/metrics-collection.ts';
import { BUSY_SERVERS, heartbeatBusyServers, openSeededStore, type SeededStore, type StoreKind } from './lib/metrics-seed.ts';
import { otelVersions } from './lib/otel-sdk.ts';
import { postgresTarget } from './lib/postgres-target.ts';
import { sqliteTarget } from './lib/sqlite-target.ts';
import { summarize } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const TARGET_P95_MS = 5;
const FINISHED: readonly StateName[] = ['Succeeded', 'Failed', 'Deleted'];
const UNFINISHED: readonly StateName[] = ['Enqueued', 'Scheduled', 'Awaiting', 'Processing'];
/** Untimed first calls of each path (statement caches, JIT). */
const WARMUP = { reads: 10, collections: 2 };

let args: { store: string; finished?: string; reads?: string; collections?: string; fresh: boolean; quick: boolean };
try {
  args = parseArgs({
    options: {
      store: { type: 'string', default: 'both' },
      finished: { type: 'string' },
      reads: { type: 'string' },
      collections: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
    },
  }).values as typeof args;
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const finished = Number(args.finished ?? (args.quick ? 100_000 : 1_000_000));
const reads = Number(args.reads ?? (args.quick ? 20 : 200));
const collections = Number(args.collections ?? (args.quick ? 3 : 30));
const kinds = (args.store === 'both' ? ['sqlite', 'postgres'] : [args.store]) as StoreKind[];
if (
  ![finished, reads, collections].every((n) => Number.isInteger(n) && n >= 1) ||
  finished < 1_000 ||
  kinds.some((kind) => kind !== 'sqlite' && kind !== 'postgres')
) {
  console.error(
    'usage: node bench/metrics-gauges.ts [--quick] [--store sqlite|postgres|both] [--finished N (>= 1000)] [--reads N] [--collections N] [--fresh]',
  );
  process.exit(2);
}

const started = performance.now();
const rows: string[][] = [];
const descriptions: string[] = [];
let allMet = true;

for (const kind of kinds) {
  const seeded = await openSeededStore(kind, finished, args.fresh, (line) => process.stderr.write(`  ${line}\n`));
  try {
    descriptions.push(describeStore(seeded));
    progress(`${seeded.name}: ${reads} store reads`);
    const readTimes = await timeStoreReads(seeded.store, reads, WARMUP.reads);
    progress(`${seeded.name}: ${collections} collections, each after the 1 s cache expired (about ${collections + WARMUP.collections} s)`);
    // The seeded workers keep heartbeating, as live ones would: the workers gauge keeps counting them.
    const collected = await timeCollections(seeded.store, collections, WARMUP.collections, () => heartbeatBusyServers(seeded.store));
    descriptions.push(describeGauges(seeded, collected.jobsByState, collected.workersAlive));
    rows.push(row(seeded.name, 'store read (readStoreFigures, uncached)', readTimes));
    rows.push(row(seeded.name, 'collection (SDK reader.collect(), cache expired)', collected.times));
  } finally {
    await seeded.store.close();
  }
}

console.log(`\nPilotlight metrics gauges: collection cost with ${formatInt(finished)} finished jobs${args.quick ? ' (--quick)' : ''}\n`);
printMachine({
  ...(kinds.includes('sqlite') ? await sqliteTarget.facts() : {}),
  ...(kinds.includes('postgres') ? await postgresTarget.facts() : {}),
  OpenTelemetry: otelVersions(),
});
console.log();
for (const description of descriptions) console.log(`  ${description}`);
console.log();
printTable(
  [
    'store',
    'path',
    { title: 'samples', align: 'right' },
    { title: 'p50', align: 'right' },
    { title: 'p95', align: 'right' },
    { title: 'max', align: 'right' },
    `p95 ≤ ${TARGET_P95_MS} ms`,
  ],
  rows,
);
console.log();
for (const note of [
  `Store read: ${WARMUP.reads} untimed reads first; each timed read is a fresh readStoreFigures() call (the gauges' cache is in the worker, not in it).`,
  `Collection: a worker on an idle queue registers the gauges on the provider; each collection waits ${formatInt(CACHE_EXPIRY_WAIT_MS)} ms first (the gauges reuse a read for 1 s), ${WARMUP.collections} untimed first; every timed one read the store exactly once (checked). It includes the SDK's aggregation of every Pilotlight instrument.`,
  `Total time ${((performance.now() - started) / 1000).toFixed(0)} s; ${allMet ? 'every target met' : 'some targets MISSED'}.`,
])
  console.log(`  ${note}`);
process.exit(allMet ? 0 : 1);

function row(store: string, path: string, times: readonly number[]): string[] {
  const summary = summarize(times);
  const met = summary.p95 <= TARGET_P95_MS;
  allMet &&= met;
  return [store, path, formatInt(summary.samples), formatMs(summary.p50), formatMs(summary.p95), formatMs(summary.max), met ? '✔' : '✘'];
}

function describeStore({ name, counts, seededSeconds }: SeededStore): string {
  const total = FINISHED.reduce((sum, state) => sum + counts[state], 0);
  const list = (states: readonly StateName[]) => states.map((state) => `${state} ${formatInt(counts[state])}`).join(', ');
  const origin = seededSeconds > 0 ? `seeded in ${seededSeconds.toFixed(0)} s` : 'seeded by an earlier run';
  return `${name}: ${formatInt(total)} finished jobs (${list(FINISHED)}); unfinished: ${list(UNFINISHED)}; ${origin}`;
}

/** What the last collection reported, against the store's own counts. */
function describeGauges({ name, counts }: SeededStore, jobsByState: ReadonlyMap<string, number>, workersAlive: number): string {
  const reported = UNFINISHED.map((state) => {
    const value = jobsByState.get(state) ?? 0;
    return `${state} ${formatInt(value)}${value === counts[state] ? '' : ` (store: ${formatInt(counts[state])})`}`;
  });
  return `${name} gauges: pilotlight.jobs ${reported.join(', ')}; pilotlight.workers ${workersAlive} (${BUSY_SERVERS.length} seeded + the bench's worker)`;
}

function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
