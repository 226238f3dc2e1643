import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { JobRecord, StateName } from '../../types.ts';
import { emptyCounts } from '../job-queries.ts';
import type { NewJob, Store } from '../store.ts';
import {
  at,
  awaiting,
  claim,
  create,
  createOne,
  finished,
  moveTo,
  mustGet,
  newJob,
  recurringJob,
  scheduled,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

/** Jobs per state of those `pick` keeps, counted one by one. */
function tally(jobs: readonly JobRecord[], pick: (job: JobRecord) => boolean = () => true): Record<StateName, number> {
  const counts = emptyCounts();
  for (const job of jobs) if (pick(job)) counts[job.state]++;
  return counts;
}

/**
 * Every count the store reports (all queues, per queue, per type, per queue and type, and its queue
 * stats) equals the jobs it holds, counted one by one.
 */
export async function assertCountsAreReal(store: Store, when: string): Promise<void> {
  const jobs = await store.listJobs({ limit: 10_000 });
  assert.deepEqual(await store.countJobs(), tally(jobs), `${when}: all jobs`);
  const queues = [...new Set(jobs.map((job) => job.queue))].sort();
  const types = [...new Set(jobs.map((job) => job.type))];
  for (const queue of queues) {
    assert.deepEqual(
      await store.countJobs({ queue }),
      tally(jobs, (job) => job.queue === queue),
      `${when}: queue ${queue}`,
    );
    for (const type of types) {
      const pick = (job: JobRecord) => job.queue === queue && job.type === type;
      assert.deepEqual(await store.countJobs({ queue, type }), tally(jobs, pick), `${when}: queue ${queue}, type ${type}`);
    }
  }
  for (const type of types)
    assert.deepEqual(
      await store.countJobs({ type }),
      tally(jobs, (job) => job.type === type),
      `${when}: type ${type}`,
    );
  assert.deepEqual(
    (await store.queueStats()).map((stats) => [stats.queue, stats.counts]),
    queues.map((queue) => [queue, tally(jobs, (job) => job.queue === queue)]),
    `${when}: queue stats`,
  );
}

function occurrence(when: Date): NewJob {
  const { type, method, argsJson, queue, priority, retry } = recurringJob();
  return newJob({ type, method, argsJson, queue, priority, retry, recurringId: 'nightly-report', state: { name: 'Enqueued', at: when } });
}

/** countJobs, queueStats, countOutcomesPerMinute: counters kept with every write. */
export function countersContract(createStore: StoreFactory): void {
  describe('job counters', () => {
    storeIt(
      createStore,
      'countJobs and queueStats equal the jobs after creates, claims, retries, failures, deletes, requeues, lease expiry, expiry, recurring fires and continuations',
      async (store) => {
        const [parent, ...mailers] = await create(store, ...Array.from({ length: 6 }, (_, i) => newJob({ argsJson: `[${i}]` })));
        await create(store, ...Array.from({ length: 3 }, () => newJob({ queue: 'mail', type: 'Digest' })));
        await create(store, scheduled(at(100)), scheduled(at(200), { queue: 'mail' }));
        const [kept, refused] = await store.createJobs([newJob({ dedupKey: 'once', queue: 'mail' }), newJob({ dedupKey: 'once' })]);
        assert.equal(refused!.created, false);
        const child = await createOne(store, awaiting(parent!, { queue: 'mail', type: 'Welcome' }));
        await assertCountsAreReal(store, 'after creating');

        const running = await claim(store, 4);
        await assertCountsAreReal(store, 'after claiming');

        // A worker's batch: two succeed (the parent among them), one fails, one is retried, and the next jobs are claimed.
        const [first, second, third, fourth] = running;
        const result = await store.transitionAndClaim(
          [
            finished(first!, { name: 'Succeeded', at: at(20) }, { expiresAt: at(100) }),
            finished(second!, { name: 'Succeeded', at: at(20) }),
            finished(third!, { name: 'Failed', at: at(20), error: { type: 'Error', message: 'boom' } }),
            finished(fourth!, { name: 'Scheduled', at: at(20), runAt: at(30), retry: true }, { runAt: at(30), retryCount: 1 }),
          ],
          { queues: ['default', 'mail'], limit: 3, serverName: 'worker-1', now: at(21), leaseUntil: at(40) },
        );
        assert.equal(result.claimed.length, 3);
        assert.equal((await mustGet(store, parent!)).state, 'Succeeded');
        await assertCountsAreReal(store, 'after a worker batch');

        await moveTo(store, fourth!.id, 'Enqueued'); // the retry is due
        await moveTo(store, third!.id, 'Enqueued'); // a failed job requeued by hand
        await moveTo(store, mailers.at(-1)!, 'Deleted');
        await moveTo(store, child, 'Enqueued'); // the continuation released
        await assertCountsAreReal(store, 'after retries, requeues, a deletion and a continuation');

        // The claimed jobs' worker died: maintenance requeues one and fails one whose attempts ran out.
        const [lost, spent] = await store.listExpiredLeases(at(1000), 10);
        await store.transition([
          { id: lost!.id, expect: { state: 'Processing', attempt: lost!.attempt }, to: { name: 'Enqueued', at: at(41) } },
          { id: spent!.id, expect: { state: 'Processing', attempt: spent!.attempt }, to: { name: 'Failed', at: at(41) } },
        ]);
        await assertCountsAreReal(store, 'after lease expiry');

        await store.upsertRecurring(recurringJob());
        await store.fireRecurring({
          id: 'nightly-report',
          expectNextRunAt: at(100),
          nextRunAt: at(200),
          firedAt: at(100),
          jobs: [occurrence(at(100)), occurrence(at(100))],
        });
        await assertCountsAreReal(store, 'after a recurring fire');

        assert.equal(await store.deleteExpiredJobs(at(150), 10), 1);
        await assertCountsAreReal(store, 'after deleting an expired job');

        // Guards that fail, and a requeue refused by a dedup key held meanwhile, change no count.
        await moveTo(store, kept!.id, 'Deleted');
        await createOne(store, newJob({ dedupKey: 'once' }));
        const refusedChanges = await store.transition([
          { id: kept!.id, expect: { state: 'Deleted' }, to: { name: 'Enqueued', at: at(60) } },
          { id: second!.id, expect: { state: 'Processing' }, to: { name: 'Failed', at: at(60) } },
          { id: '999999999', expect: { state: 'Enqueued' }, to: { name: 'Deleted', at: at(60) } },
        ]);
        assert.deepEqual(refusedChanges, [undefined, undefined, undefined]);
        await assertCountsAreReal(store, 'after refused changes');
      },
    );

    storeIt(createStore, 'queueStats: per queue holding jobs, by name, with when its oldest Enqueued job became due', async (store) => {
      await create(
        store,
        newJob({ queue: 'mail', priority: 5, runAt: at(30) }),
        newJob({ queue: 'mail', priority: 0, runAt: at(10) }),
        newJob({ queue: 'mail', priority: -1, runAt: at(20) }),
        newJob({ queue: 'mail', priority: 0, runAt: at(15) }),
        scheduled(at(99), { queue: 'sms' }),
      );
      const gone = await createOne(store, newJob({ queue: 'archive' }));
      await moveTo(store, gone, 'Succeeded', { expiresAt: at(60) });
      await store.deleteExpiredJobs(at(60), 10);

      const stats = await store.queueStats();
      assert.deepEqual(
        stats.map((queue) => [queue.queue, queue.oldestEnqueuedAt]),
        [
          ['mail', at(10)],
          ['sms', undefined],
        ],
      );
      assert.deepEqual(stats[0]!.counts, { ...emptyCounts(), Enqueued: 4 });
      assert.deepEqual(stats[1]!.counts, { ...emptyCounts(), Scheduled: 1 });

      await claim(store, 2, { queue: 'mail' }); // priority 5, then the oldest of priority 0
      assert.deepEqual((await store.queueStats())[0]!.oldestEnqueuedAt, at(15));
      await claim(store, 2, { queue: 'mail' });
      assert.deepEqual(
        (await store.queueStats()).map((queue) => [queue.queue, queue.oldestEnqueuedAt, queue.counts.Processing]),
        [
          ['mail', undefined, 4],
          ['sms', undefined, 0],
        ],
      );
    });

    storeIt(
      createStore,
      'countOutcomesPerMinute: jobs that reached Succeeded or Failed, in the minute they did, from the minute of since',
      async (store) => {
        const [a, b, c, d, e] = await create(store, newJob(), newJob(), newJob(), newJob(), newJob());
        await moveTo(store, a!, 'Succeeded', { to: { name: 'Succeeded', at: at(10) } });
        await moveTo(store, b!, 'Failed', { to: { name: 'Failed', at: at(70) } });
        await moveTo(store, c!, 'Succeeded', { to: { name: 'Succeeded', at: at(119.999) } });
        await moveTo(store, d!, 'Deleted', { to: { name: 'Deleted', at: at(70) } });
        await moveTo(store, e!, 'Scheduled', { to: { name: 'Scheduled', at: at(70), runAt: at(80) } });
        assert.deepEqual(await store.countOutcomesPerMinute(at(0)), [
          { minute: at(0), succeeded: 1, failed: 0 },
          { minute: at(60), succeeded: 1, failed: 1 },
        ]);
        assert.deepEqual(await store.countOutcomesPerMinute(at(65)), [{ minute: at(60), succeeded: 1, failed: 1 }]);
        assert.deepEqual(await store.countOutcomesPerMinute(at(120)), []);

        // A job finishing again (requeued by hand) counts again.
        await moveTo(store, b!, 'Enqueued', { to: { name: 'Enqueued', at: at(125) } });
        await moveTo(store, b!, 'Succeeded', { to: { name: 'Succeeded', at: at(130) } });
        assert.deepEqual(await store.countOutcomesPerMinute(at(120)), [{ minute: at(120), succeeded: 1, failed: 0 }]);
      },
    );

    storeIt(createStore, 'outcomes outlive the jobs; deleteExpiredJobs forgets them after 48 hours, not before 24', async (store) => {
      const jobs = await create(store, newJob(), newJob());
      for (const id of jobs) await moveTo(store, id, 'Succeeded', { to: { name: 'Succeeded', at: at(10) }, expiresAt: at(20) });
      assert.equal(await store.deleteExpiredJobs(at(30), 10), 2);
      assert.equal((await store.countJobs()).Succeeded, 0);
      const day = 24 * 60 * 60;
      await store.deleteExpiredJobs(at(day + 60), 10);
      assert.deepEqual(await store.countOutcomesPerMinute(at(0)), [{ minute: at(0), succeeded: 2, failed: 0 }]);
      await store.deleteExpiredJobs(at(2 * day + 120), 10);
      assert.deepEqual(await store.countOutcomesPerMinute(at(0)), []);
    });
  });
}
