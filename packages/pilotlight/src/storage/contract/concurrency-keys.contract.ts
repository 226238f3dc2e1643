import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { ConcurrencyLimit, JobRecord } from '../../types.ts';
import type { Store, Transition } from '../store.ts';
import { at, claim, claimUpTo, create, createOne, finished, ids, mustGet, newJob, sorted, storeIt, type StoreFactory } from './fixtures.ts';

function keyed(key: string, limit: number, overrides: Parameters<typeof newJob>[0] = {}) {
  return newJob({ ...overrides, concurrency: { key, limit } });
}

/** Starts one job holding `concurrency` and returns it, Processing. */
async function runOne(store: Store, concurrency: ConcurrencyLimit, queue = 'default'): Promise<JobRecord> {
  const id = await createOne(store, newJob({ queue, concurrency, priority: 100 }));
  const [running] = await claim(store, 1, { queue });
  assert.equal(running!.id, id);
  return running!;
}

/** The ways out of Processing, each as the change that takes a running job there. */
const exits: [string, (job: JobRecord) => Transition][] = [
  ['Succeeded', (job) => finished(job, { name: 'Succeeded', at: at(20) })],
  ['Failed', (job) => finished(job, { name: 'Failed', at: at(20), error: { type: 'Error', message: 'boom' } })],
  [
    'Scheduled (a retry)',
    (job) => finished(job, { name: 'Scheduled', at: at(20), runAt: at(90), retry: true }, { runAt: at(90), retryCount: 1 }),
  ],
  ['Enqueued (handed back on shutdown)', (job) => finished(job, { name: 'Enqueued', at: at(20) }, { attempt: job.attempt - 1 })],
  [
    'Enqueued (requeued after its lease expired)',
    (job) => ({
      id: job.id,
      expect: { state: 'Processing', attempt: job.attempt },
      to: { name: 'Enqueued', reason: 'Lease expired', at: at(41) },
    }),
  ],
  ['Deleted', (job) => ({ id: job.id, expect: { state: 'Processing' }, to: { name: 'Deleted', reason: 'Deleted by hand', at: at(20) } })],
];

/** A job's `concurrency` ({ key, limit }), enforced by claimJobs and transitionAndClaim. */
export function concurrencyKeysContract(createStore: StoreFactory): void {
  describe('concurrency keys', () => {
    storeIt(createStore, "stores a job's concurrency key and limit", async (store) => {
      const id = await createOne(store, keyed('tenant:42', 3));
      assert.deepEqual((await mustGet(store, id)).concurrency, { key: 'tenant:42', limit: 3 });
      const [running] = await claim(store, 1);
      assert.deepEqual(running!.concurrency, { key: 'tenant:42', limit: 3 });
    });

    storeIt(
      createStore,
      'counts the jobs this same claim takes: a claim of 10 with 10 jobs of a key of limit 2 takes the first 2',
      async (store) => {
        const jobs = await create(store, ...Array.from({ length: 10 }, (_, i) => keyed('k', 2, { runAt: at(i) })));
        assert.deepEqual(ids(await claimUpTo(store, 10)), jobs.slice(0, 2));
        assert.deepEqual(await claimUpTo(store, 10, { now: at(11) }), [], 'the key is at its limit');
        assert.equal((await store.countJobs()).Enqueued, 8);
      },
    );

    storeIt(
      createStore,
      'no head-of-line blocking: a claim for N returns N claimable jobs, however many blocked keyed jobs come first',
      async (store) => {
        await runOne(store, { key: 'busy', limit: 1 });
        // 150 blocked jobs ahead in claim order (higher priority, older), then claimable ones behind them.
        await create(store, ...Array.from({ length: 150 }, (_, i) => keyed('busy', 1, { priority: 9, runAt: at(i % 5) })));
        const free = await create(
          store,
          newJob({ priority: 1 }),
          keyed('idle', 1, { priority: 1 }),
          newJob({ priority: 0 }),
          keyed('other', 5, { priority: 0 }),
          newJob({ priority: -1 }),
          newJob({ priority: -2 }),
        );
        assert.deepEqual(ids(await claim(store, 5)), free.slice(0, 5));
        assert.deepEqual(ids(await claim(store, 1, { now: at(11) })), free.slice(5));
        assert.deepEqual(await claimUpTo(store, 10, { now: at(12) }), []);
      },
    );

    storeIt(createStore, 'a blocked job is passed over in a claim of one as well', async (store) => {
      await runOne(store, { key: 'k', limit: 1 });
      const [blocked, free] = await create(store, keyed('k', 1, { priority: 5 }), newJob());
      assert.deepEqual(ids(await claim(store, 1)), [free]);
      assert.equal((await mustGet(store, blocked!)).state, 'Enqueued');
    });

    storeIt(createStore, 'counts the jobs of the key already Processing, whoever claimed them', async (store) => {
      await create(store, keyed('k', 3), keyed('k', 3));
      await claim(store, 1, { serverName: 'w1' });
      await claim(store, 1, { serverName: 'w2' });
      await create(store, keyed('k', 3), keyed('k', 3), keyed('k', 3));
      assert.equal((await claimUpTo(store, 5, { serverName: 'w3' })).length, 1);
      assert.deepEqual(await claimUpTo(store, 5, { serverName: 'w4' }), []);
    });

    storeIt(createStore, 'each job is held to its own limit, counting every Processing job of its key', async (store) => {
      await create(store, keyed('k', 3), keyed('k', 3));
      await claim(store, 2);
      const [strict, lenient, third] = await create(store, keyed('k', 1, { priority: 5 }), keyed('k', 3), keyed('k', 3));
      // Two jobs of the key run: the job of limit 1 waits, the first of limit 3 makes three.
      assert.deepEqual(ids(await claimUpTo(store, 5, { now: at(11) })), [lenient]);
      assert.equal((await mustGet(store, strict!)).state, 'Enqueued');
      assert.equal((await mustGet(store, third!)).state, 'Enqueued');
    });

    storeIt(createStore, 'each job is held to its own limit within one claim, in claim order', async (store) => {
      const [one, two, blocked, wide] = await create(
        store,
        keyed('k', 1, { priority: 9 }),
        keyed('k', 2, { priority: 8 }),
        keyed('k', 2, { priority: 7 }),
        keyed('k', 4, { priority: 6 }),
      );
      // 0 running < 1: take; 1 < 2: take; 2 < 2: no; 2 < 4: take.
      assert.deepEqual(ids(await claimUpTo(store, 10)), [one, two, wide]);
      assert.equal((await mustGet(store, blocked!)).state, 'Enqueued');
    });

    storeIt(createStore, 'keys are independent of each other', async (store) => {
      const jobs = await create(store, keyed('a', 1), keyed('a', 1), keyed('b', 1), keyed('b', 1), keyed('c', 2), keyed('c', 2));
      assert.deepEqual(sorted(ids(await claimUpTo(store, 10))), sorted([jobs[0]!, jobs[2]!, jobs[4]!, jobs[5]!]));
    });

    storeIt(
      createStore,
      'a key counts its jobs in every queue: those Processing elsewhere and those this claim takes from several queues',
      async (store) => {
        await runOne(store, { key: 'tenant', limit: 2 }, 'mail');
        const [sms, push, other] = await create(
          store,
          keyed('tenant', 2, { queue: 'sms', priority: 3 }),
          keyed('tenant', 2, { queue: 'push', priority: 2 }),
          newJob({ queue: 'push' }),
        );
        assert.deepEqual(ids(await claimUpTo(store, 10, { queues: ['sms', 'push'] })), [sms, other]);
        assert.equal((await mustGet(store, push!)).state, 'Enqueued');
        assert.deepEqual(await claimUpTo(store, 10, { queues: ['push'], now: at(11) }), []);
      },
    );

    for (const [exit, change] of exits) {
      storeIt(createStore, `a key frees up when its job leaves Processing for ${exit}`, async (store) => {
        const running = await runOne(store, { key: 'k', limit: 1 });
        const waiting = await createOne(store, keyed('k', 1));
        assert.deepEqual(await claimUpTo(store, 1, { now: at(11) }), [], 'blocked while the first job runs');
        if (exit.includes('lease expired')) assert.deepEqual(ids(await store.listExpiredLeases(at(41), 10)), [running.id]);
        const [moved] = await store.transition([change(running)]);
        assert.ok(moved, `the running job moves to ${exit}`);
        const [next] = await claimUpTo(store, 1, { now: at(42), leaseUntil: at(80) });
        assert.ok(next, `a job of the key is claimed once the first left Processing for ${exit}`);
        // A job handed back or requeued is Enqueued again, older, and may be the one claimed: either frees the key for one.
        assert.ok([waiting, running.id].includes(next.id));
        assert.deepEqual(await claimUpTo(store, 1, { now: at(43), leaseUntil: at(80) }), [], 'one job of the key runs again');
      });
    }

    storeIt(createStore, 'transitionAndClaim: the claim counts the keys its own changes freed and obeys the limits', async (store) => {
      const running = await runOne(store, { key: 'k', limit: 1 });
      const [next, blocked, free] = await create(store, keyed('k', 1), keyed('k', 1), newJob());
      const request = { queues: ['default'], limit: 10, serverName: 'worker-1', now: at(20), leaseUntil: at(50) };

      const { claimed } = await store.transitionAndClaim([finished(running, { name: 'Succeeded', at: at(20) })], request);
      assert.deepEqual(ids(claimed), [next, free]);
      assert.equal((await mustGet(store, blocked!)).state, 'Enqueued');

      const again = await store.transitionAndClaim([], { ...request, now: at(21) });
      assert.deepEqual(again.claimed, [], 'the key is at its limit');
    });

    storeIt(createStore, 'transitionAndClaim: a job its own changes make Enqueued is held to its key like the others', async (store) => {
      await runOne(store, { key: 'k', limit: 1 });
      const retry = await createOne(
        store,
        newJob({ concurrency: { key: 'k', limit: 1 }, state: { name: 'Scheduled', at: at(0), runAt: at(5) } }),
      );
      const job = await mustGet(store, retry);
      const { transitioned, claimed } = await store.transitionAndClaim(
        [{ id: retry, job, expect: { state: 'Scheduled' }, to: { name: 'Enqueued', at: at(6) } }],
        { queues: ['default'], limit: 5, serverName: 'worker-1', now: at(6), leaseUntil: at(40) },
      );
      assert.equal(transitioned[0]?.state, 'Enqueued');
      assert.deepEqual(claimed, []);
    });

    storeIt(createStore, 'concurrent claims never take more jobs of a key than its limit', async (store) => {
      await create(store, ...Array.from({ length: 30 }, () => keyed('k', 3)), ...Array.from({ length: 6 }, () => newJob()));
      const workers = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'];
      const batches = await Promise.all(workers.map((serverName) => claimUpTo(store, 3, { serverName })));
      const claimed = batches.flat();
      assert.equal(new Set(ids(claimed)).size, claimed.length, 'a job was claimed twice');
      assert.ok(claimed.filter((job) => job.concurrency?.key === 'k').length <= 3, 'the key went over its limit');
      // Whatever the racing claims skipped, one more claim takes what is left to take, and no more.
      await claimUpTo(store, 10, { serverName: 'w7', now: at(11) });
      const processing = await store.listJobs({ state: 'Processing', limit: 100 });
      assert.equal(processing.filter((job) => job.concurrency?.key === 'k').length, 3);
      assert.equal(processing.filter((job) => job.concurrency === undefined).length, 6);
    });
  });
}
