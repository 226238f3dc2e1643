/**
 * Pilotlight benchmark on the PostgreSQL store: the SQLite bench's table, plus processing with a
 * million finished jobs already in the table. Each run uses a schema of its own, dropped afterwards.
 *
 *   node bench/postgres.ts            full run, 3 runs per scenario
 *   node bench/postgres.ts --quick    small counts, one run: a smoke test
 *   node bench/postgres.ts --runs 5   more runs per scenario (the median is reported)
 *   node bench/postgres.ts --only processing-c10
 *                                     scenarios whose key starts with one of these:
 *                                     enqueue-one, enqueue-bulk, processing-c1, processing-c10,
 *                                     processing-c10-prefetch, processing-c50,
 *                                     processing-c10-prefetch-finished, pickup-same, pickup-cross
 *
 * The server: PILOTLIGHT_BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 * Exits 1 if a target is missed, 2 on bad arguments.
 */
import { postgresTarget } from './lib/postgres-target.ts';
import { runStoreBench } from './lib/store-bench.ts';

await runStoreBench({
  target: postgresTarget,
  script: 'bench/postgres.ts',
  // graphile-worker (with its batching options) does ~16,000 no-op jobs/s on this machine, pg-boss
  // ~2,000; both pick up in ~4 ms. Enqueueing has no target here: a round trip to the server each.
  targets: { processingC10: 16_000, pickupSameP50: 3, pickupCrossP50: 3 },
  crossProcessLabel: 'across processes (worker child, LISTEN/NOTIFY)',
  finishedJobs: { count: 1_000_000, quickCount: 100_000, slowdown: 0.1 },
});
