/**
 * What both stores' migration-3 tests share: the jobs a schema at version 2 holds (written by each
 * test in its own SQL), and what the counters must say once migration 3 has counted them.
 */
import assert from 'node:assert/strict';
import type { Store } from '../../src/store-kit.ts';

export interface LegacyRow {
  readonly queue: string;
  readonly priority: number;
  readonly state: string;
  /** Epoch ms. */
  readonly runAt: number;
  /** Epoch ms. */
  readonly changedAt: number;
}

/** The start of the minute ten minutes ago: the minute the legacy jobs finished in. */
export function legacyMinute(): number {
  return Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
}

/** Jobs in every state but Awaiting, three queues, finished in `minute` and the next (one too long ago to count). */
export function legacyRows(minute: number): LegacyRow[] {
  const row = (queue: string, priority: number, state: string, runAt: number, changedAt: number): LegacyRow => ({
    queue,
    priority,
    state,
    runAt,
    changedAt,
  });
  return [
    row('mail', 0, 'Enqueued', 5_000, 0),
    row('mail', 3, 'Enqueued', 9_000, 0),
    row('mail', -1, 'Enqueued', 3_000, 0),
    row('mail', 0, 'Processing', 0, minute),
    row('default', 0, 'Succeeded', 0, minute + 1_000),
    row('default', 0, 'Succeeded', 0, minute + 59_000),
    row('default', 0, 'Succeeded', 0, minute + 60_000),
    row('default', 0, 'Failed', 0, minute + 2_000),
    row('default', 0, 'Failed', 0, minute - 72 * 60 * 60_000),
    row('reports', 0, 'Scheduled', 0, 0),
    row('default', 0, 'Deleted', 0, minute),
  ];
}

/** The counts, queue statistics and outcomes per minute of `legacyRows(minute)`, as the migrated store reads them. */
export async function assertLegacyCounted(store: Store, minute: number): Promise<void> {
  assert.deepEqual(await store.countJobs(), { Enqueued: 3, Scheduled: 1, Awaiting: 0, Processing: 1, Succeeded: 3, Failed: 2, Deleted: 1 });
  assert.deepEqual(
    (await store.queueStats()).map((queue) => [queue.queue, queue.counts, queue.oldestEnqueuedAt]),
    [
      ['default', { Enqueued: 0, Scheduled: 0, Awaiting: 0, Processing: 0, Succeeded: 3, Failed: 2, Deleted: 1 }, undefined],
      ['mail', { Enqueued: 3, Scheduled: 0, Awaiting: 0, Processing: 1, Succeeded: 0, Failed: 0, Deleted: 0 }, new Date(3_000)],
      ['reports', { Enqueued: 0, Scheduled: 1, Awaiting: 0, Processing: 0, Succeeded: 0, Failed: 0, Deleted: 0 }, undefined],
    ],
  );
  assert.deepEqual(await store.countOutcomesPerMinute(new Date(minute - 100 * 60 * 60_000)), [
    { minute: new Date(minute), succeeded: 2, failed: 1 },
    { minute: new Date(minute + 60_000), succeeded: 1, failed: 0 },
  ]);
}
