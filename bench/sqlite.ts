/**
 * Pilotlight benchmark on the embedded SQLite store.
 *
 *   node bench/sqlite.ts            full run, 3 runs per scenario (75-90 s on 2 cores)
 *   node bench/sqlite.ts --quick    small counts, one run: a smoke test
 *   node bench/sqlite.ts --runs 5   more runs per scenario (the median is reported)
 *   node bench/sqlite.ts --only processing,pickup
 *                                   scenarios whose key starts with one of these:
 *                                   enqueue-one, enqueue-bulk, processing-c1, processing-c10,
 *                                   processing-c10-prefetch, processing-c50, pickup-same, pickup-cross
 *
 * Exits 1 if a target is missed, 2 on bad arguments.
 */
import { runStoreBench } from './lib/store-bench.ts';
import { sqliteTarget } from './lib/sqlite-target.ts';

await runStoreBench({
  target: sqliteTarget,
  script: 'bench/sqlite.ts',
  targets: { enqueueOne: 15_000, enqueueBulk: 50_000, processingC10: 25_000, pickupSameP50: 1, pickupCrossP50: 5 },
  crossProcessLabel: 'across processes (worker child, same file)',
});
