import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  at,
  awaiting,
  claim,
  create,
  createOne,
  historyOf,
  ids,
  moveTo,
  mustGet,
  newJob,
  scheduled,
  sorted,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

/** claimJobs, transition, setProgress. */
export function claimingContract(createStore: StoreFactory): void {
  describe('claimJobs', () => {
    storeIt(createStore, 'claims only Enqueued jobs of the requested queues', async (store) => {
      const parent = await createOne(store, newJob({ queue: 'elsewhere' }));
      const [mail, sms] = await create(
        store,
        newJob({ queue: 'mail' }),
        newJob({ queue: 'sms' }),
        newJob({ queue: 'push' }),
        scheduled(at(1), { queue: 'mail' }),
        awaiting(parent, { queue: 'mail' }),
      );
      const done = await createOne(store, newJob({ queue: 'sms' }));
      await moveTo(store, done, 'Succeeded');

      const claimed = await store.claimJobs({ queues: ['mail', 'sms'], limit: 10, serverName: 'w', now: at(10), leaseUntil: at(40) });
      assert.deepEqual(sorted(ids(claimed)), sorted([mail!, sms!]));
      assert.deepEqual(await store.claimJobs({ queues: ['mail', 'sms'], limit: 10, serverName: 'w', now: at(11), leaseUntil: at(40) }), []);
      assert.equal((await store.countJobs()).Enqueued, 2); // 'push' and 'elsewhere' were not asked for
    });

    storeIt(createStore, 'takes the highest priority first, then the oldest runAt, then creation order', async (store) => {
      const [a, b, c, d, e, f] = await create(
        store,
        newJob({ priority: 0, runAt: at(5) }),
        newJob({ priority: 5, runAt: at(9) }),
        newJob({ priority: 0, runAt: at(1) }),
        newJob({ priority: 0, runAt: at(5) }),
        newJob({ priority: 5, runAt: at(3) }),
        newJob({ priority: -2, runAt: at(0) }),
      );
      const expected = [e, b, c, a, d, f];

      const oneByOne: string[] = [];
      for (let i = 0; i < 6; i++) oneByOne.push(...ids(await claim(store, 1, { now: at(10 + i) })));
      assert.deepEqual(oneByOne, expected);
    });

    storeIt(createStore, 'returns a batch in claim order, and respects the limit', async (store) => {
      const [low, high, mid, oldMid] = await create(
        store,
        newJob({ priority: 1 }),
        newJob({ priority: 9 }),
        newJob({ priority: 4, runAt: at(6) }),
        newJob({ priority: 4, runAt: at(2) }),
      );
      assert.deepEqual(ids(await claim(store, 3)), [high, oldMid, mid]);
      assert.equal((await mustGet(store, low!)).state, 'Enqueued');
      assert.deepEqual(ids(await store.claimJobs({ queues: ['default'], limit: 5, serverName: 'w', now: at(12), leaseUntil: at(40) })), [
        low,
      ]);
    });

    storeIt(createStore, 'moves claimed jobs to Processing with an attempt, a worker and a lease', async (store) => {
      const id = await createOne(store, newJob({ state: { name: 'Enqueued', reason: 'Created', at: at(0) }, metadata: { k: 'v' } }));
      const [claimed] = await claim(store, 1, { serverName: 'host:1:abc', now: at(10), leaseUntil: at(40) });

      assert.equal(claimed!.id, id);
      assert.equal(claimed!.state, 'Processing');
      assert.equal(claimed!.attempt, 1);
      assert.equal(claimed!.serverName, 'host:1:abc');
      assert.deepEqual(claimed!.leaseUntil, at(40));
      assert.deepEqual(claimed!.stateChangedAt, at(10));
      assert.deepEqual(claimed!.createdAt, at(0));
      assert.deepEqual(claimed, await store.getJob(id));

      assert.deepEqual(await historyOf(store, id), [
        { name: 'Enqueued', reason: 'Created', at: at(0) },
        { name: 'Processing', at: at(10), serverName: 'host:1:abc', attempt: 1 },
      ]);
    });

    storeIt(createStore, 'increments the attempt on every claim', async (store) => {
      const id = await createOne(store);
      await claim(store, 1, { serverName: 'w1', now: at(10) });
      await moveTo(store, id, 'Enqueued');
      const [second] = await claim(store, 1, { serverName: 'w2', now: at(60) });
      assert.equal(second!.attempt, 2);
      assert.equal(second!.serverName, 'w2');
      const history = await historyOf(store, id);
      assert.deepEqual(history.at(-1), { name: 'Processing', at: at(60), serverName: 'w2', attempt: 2 });
    });

    storeIt(createStore, 'never hands the same job to two concurrent claims', async (store) => {
      const created = await create(store, ...Array.from({ length: 10 }, (_, i) => newJob({ argsJson: `[${i}]` })));
      const workers = ['w1', 'w2', 'w3', 'w4'];
      const batches = await Promise.all(
        workers.map((serverName) => store.claimJobs({ queues: ['default'], limit: 4, serverName, now: at(10), leaseUntil: at(40) })),
      );
      const claimed = batches.flatMap((batch) => ids(batch));
      assert.equal(new Set(claimed).size, claimed.length, 'a job was claimed twice');
      assert.deepEqual(sorted(claimed), sorted(created));
      for (const [i, batch] of batches.entries()) {
        for (const job of batch) assert.equal((await mustGet(store, job.id)).serverName, workers[i]);
      }
    });
  });

  describe('transition', () => {
    storeIt(createStore, 'applies a change whose guard holds and records it in the history', async (store) => {
      const id = await createOne(store);
      const [claimed] = await claim(store, 1, { serverName: 'w1' });
      const error = { type: 'RangeError', message: 'out of range', stack: 'RangeError: out of range' };
      const [failed] = await store.transition([
        {
          id,
          expect: { state: 'Processing', attempt: claimed!.attempt, serverName: 'w1' },
          to: { name: 'Failed', reason: 'No attempt left', at: at(20), error },
          expiresAt: null,
        },
      ]);

      assert.ok(failed);
      assert.equal(failed.state, 'Failed');
      assert.equal(failed.stateReason, 'No attempt left');
      assert.deepEqual(failed.stateChangedAt, at(20));
      assert.equal(failed.attempt, 1);
      assert.deepEqual(failed, await store.getJob(id));
      assert.deepEqual((await historyOf(store, id)).at(-1), { name: 'Failed', reason: 'No attempt left', at: at(20), error });
    });

    storeIt(createStore, 'refuses a change when the job is no longer in the expected state', async (store) => {
      const id = await createOne(store);
      const before = await mustGet(store, id);
      const results = await store.transition([{ id, expect: { state: 'Processing' }, to: { name: 'Succeeded', at: at(20) } }]);
      assert.deepEqual(results, [undefined]);
      assert.deepEqual(await store.getJob(id), before);
      assert.equal((await store.getHistory(id)).length, 1);
    });

    storeIt(createStore, 'refuses a change for another attempt', async (store) => {
      const id = await createOne(store);
      await claim(store, 1);
      const [stale] = await store.transition([{ id, expect: { state: 'Processing', attempt: 2 }, to: { name: 'Succeeded', at: at(20) } }]);
      assert.equal(stale, undefined);
      assert.equal((await mustGet(store, id)).state, 'Processing');
      assert.equal((await store.getHistory(id)).length, 2);

      const [current] = await store.transition([
        { id, expect: { state: 'Processing', attempt: 1 }, to: { name: 'Succeeded', at: at(20) } },
      ]);
      assert.equal(current?.state, 'Succeeded');
    });

    storeIt(createStore, 'refuses a change for another worker', async (store) => {
      const id = await createOne(store);
      await claim(store, 1, { serverName: 'w1' });
      const [other] = await store.transition([
        { id, expect: { state: 'Processing', serverName: 'w2' }, to: { name: 'Enqueued', at: at(20) } },
      ]);
      assert.equal(other, undefined);
      const job = await mustGet(store, id);
      assert.equal(job.state, 'Processing');
      assert.equal(job.serverName, 'w1');
      assert.equal((await store.getHistory(id)).length, 2);

      const [own] = await store.transition([
        { id, expect: { state: 'Processing', serverName: 'w1' }, to: { name: 'Enqueued', at: at(20) } },
      ]);
      assert.equal(own?.state, 'Enqueued');
    });

    storeIt(createStore, 'returns undefined for an unknown job', async (store) => {
      const results = await store.transition([
        { id: 'no-such-job', expect: { state: 'Enqueued' }, to: { name: 'Deleted', at: at(20) } },
        { id: '999999999', expect: { state: 'Enqueued' }, to: { name: 'Deleted', at: at(20) } },
      ]);
      assert.deepEqual(results, [undefined, undefined]);
      assert.equal((await store.countJobs()).Deleted, 0);
    });

    storeIt(createStore, 'applies runAt, retryCount and attempt when given, and keeps them when absent', async (store) => {
      const id = await createOne(store, newJob({ runAt: at(0) }));
      await claim(store, 1);
      const [retry] = await store.transition([
        {
          id,
          expect: { state: 'Processing', attempt: 1 },
          to: { name: 'Scheduled', reason: 'Retry 1', at: at(20), runAt: at(90), retry: true },
          runAt: at(90),
          retryCount: 1,
        },
      ]);
      assert.equal(retry?.state, 'Scheduled');
      assert.deepEqual(retry?.runAt, at(90));
      assert.equal(retry?.retryCount, 1);
      assert.equal(retry?.attempt, 1);

      const [promoted] = await store.transition([
        { id, expect: { state: 'Scheduled' }, to: { name: 'Enqueued', reason: 'Retry 1 is due', at: at(91) } },
      ]);
      assert.deepEqual(promoted?.runAt, at(90));
      assert.equal(promoted?.retryCount, 1);
      assert.equal(promoted?.attempt, 1);

      await claim(store, 1, { now: at(92) });
      const [handedBack] = await store.transition([
        {
          id,
          expect: { state: 'Processing', attempt: 2 },
          to: { name: 'Enqueued', reason: 'Handed back', at: at(93) },
          attempt: 1,
          runAt: at(93),
        },
      ]);
      assert.equal(handedBack?.attempt, 1);
      assert.deepEqual(handedBack?.runAt, at(93));
      assert.equal(handedBack?.retryCount, 1);
    });

    storeIt(createStore, 'clears the worker and the lease when a job leaves Processing', async (store) => {
      const [a, b] = await create(store, newJob(), newJob());
      await claim(store, 2, { serverName: 'w1' });
      const [succeeded, requeued] = await store.transition([
        { id: a!, expect: { state: 'Processing' }, to: { name: 'Succeeded', at: at(20) } },
        { id: b!, expect: { state: 'Processing' }, to: { name: 'Enqueued', at: at(20) } },
      ]);
      for (const job of [succeeded, requeued, await store.getJob(a!), await store.getJob(b!)]) {
        assert.ok(job);
        assert.equal(job.serverName, undefined);
        assert.equal(job.leaseUntil, undefined);
      }
    });

    storeIt(createStore, 'applies a batch item by item, in order, and reports each result', async (store) => {
      const [a, b, c] = await create(store, newJob(), newJob(), newJob());
      const results = await store.transition([
        { id: a!, expect: { state: 'Enqueued' }, to: { name: 'Deleted', reason: 'first', at: at(20) } },
        { id: b!, expect: { state: 'Scheduled' }, to: { name: 'Deleted', at: at(20) } },
        { id: a!, expect: { state: 'Enqueued' }, to: { name: 'Succeeded', at: at(21) } },
        { id: c!, expect: { state: 'Enqueued' }, to: { name: 'Scheduled', reason: 'later', at: at(22), runAt: at(70) }, runAt: at(70) },
        { id: a!, expect: { state: 'Deleted' }, to: { name: 'Enqueued', reason: 'requeued', at: at(23) } },
      ]);
      assert.deepEqual(
        results.map((job) => job && [job.id, job.state, job.stateReason]),
        [[a, 'Deleted', 'first'], undefined, undefined, [c, 'Scheduled', 'later'], [a, 'Enqueued', 'requeued']],
      );
      assert.deepEqual(
        (await store.getHistory(a!)).map((state) => state.name),
        ['Enqueued', 'Deleted', 'Enqueued'],
      );
      assert.equal((await store.getHistory(b!)).length, 1);
      assert.equal((await mustGet(store, b!)).state, 'Enqueued');
      assert.deepEqual((await mustGet(store, c!)).runAt, at(70));
    });
  });

  describe('transitionAndClaim', () => {
    storeIt(createStore, 'applies the changes, then claims, in one call', async (store) => {
      const [running, waiting] = await create(store, newJob(), newJob());
      const [claimed] = await claim(store, 1);
      assert.equal(claimed!.id, running);
      const { transitioned, claimed: next } = await store.transitionAndClaim(
        [
          {
            id: running!,
            expect: { state: 'Processing', attempt: 1, serverName: 'worker-1' },
            to: { name: 'Succeeded', at: at(20) },
            job: claimed!,
          },
        ],
        { queues: ['default'], limit: 5, serverName: 'worker-1', now: at(20), leaseUntil: at(50) },
      );
      assert.equal(transitioned[0]!.state, 'Succeeded');
      assert.deepEqual(ids(next), [waiting]);
      assert.equal(next[0]!.state, 'Processing');
      assert.equal((await mustGet(store, running!)).state, 'Succeeded');
      const { transitioned: none, claimed: nothing } = await store.transitionAndClaim([], undefined);
      assert.deepEqual([none, nothing], [[], []]);
    });

    storeIt(createStore, 'a change that enqueues a job makes it claimable by the same call', async (store) => {
      const id = await createOne(store, scheduled(at(5)));
      const job = await mustGet(store, id);
      const { claimed } = await store.transitionAndClaim(
        [{ id, expect: { state: 'Scheduled' }, to: { name: 'Enqueued', at: at(6) }, runAt: at(6), job }],
        { queues: ['default'], limit: 1, serverName: 'w', now: at(6), leaseUntil: at(40) },
      );
      assert.deepEqual(ids(claimed), [id]);
    });

    storeIt(
      createStore,
      "a worker's own completion reports continuations added while the job ran, and the progress it reported",
      async (store) => {
        const parent = await createOne(store);
        const [running] = await claim(store, 1);
        await store.setProgress(parent, 1, { value: 90 });
        await createOne(store, awaiting(parent, { queue: 'later' }));
        const [done] = await store.transition([
          {
            id: parent,
            expect: { state: 'Processing', attempt: 1, serverName: 'worker-1' },
            to: { name: 'Succeeded', at: at(30) },
            job: running!,
          },
        ]);
        assert.equal(done!.hasContinuations, true);
        assert.deepEqual(done!.progress, { value: 90 });
        assert.equal(done!.state, 'Succeeded');
        assert.equal(done!.serverName, undefined);
        assert.deepEqual(done!.stateChangedAt, at(30));
      },
    );
  });

  describe('transition and dedup keys', () => {
    storeIt(createStore, 'refuses only the change that would make a second unfinished holder of a dedup key', async (store) => {
      const [old, other] = await create(store, newJob({ dedupKey: 'k' }), newJob());
      await moveTo(store, old!, 'Failed');
      const holder = await createOne(store, newJob({ dedupKey: 'k' }));
      const [requeued, moved] = await store.transition([
        { id: old!, expect: { state: 'Failed' }, to: { name: 'Enqueued', reason: 'requeue', at: at(60) } },
        { id: other!, expect: { state: 'Enqueued' }, to: { name: 'Deleted', reason: 'unrelated', at: at(60) } },
      ]);
      assert.equal(requeued, undefined);
      assert.equal(moved?.state, 'Deleted', 'the other change of the batch applied');
      assert.equal((await mustGet(store, old!)).state, 'Failed');
      assert.deepEqual(
        (await store.getHistory(old!)).map((state) => state.name),
        ['Enqueued', 'Failed'],
      );
      assert.equal((await mustGet(store, holder)).state, 'Enqueued');
    });
  });

  describe('setProgress', () => {
    storeIt(createStore, 'a new claim starts without the progress of the previous attempt', async (store) => {
      const id = await createOne(store);
      await claim(store, 1);
      await store.setProgress(id, 1, { value: 80 });
      await moveTo(store, id, 'Enqueued');
      const [again] = await claim(store, 1, { now: at(60) });
      assert.equal(again!.progress, undefined);
    });

    storeIt(createStore, 'records progress of the running attempt', async (store) => {
      const id = await createOne(store);
      await claim(store, 1);
      await store.setProgress(id, 1, { value: 40, message: 'resizing' });
      assert.deepEqual((await mustGet(store, id)).progress, { value: 40, message: 'resizing' });
      await store.setProgress(id, 1, { value: 75 });
      assert.deepEqual((await mustGet(store, id)).progress, { value: 75 });
    });

    storeIt(createStore, 'ignores progress of another attempt, of a job not running, and of an unknown job', async (store) => {
      const [running, waiting] = await create(store, newJob({ queue: 'run' }), newJob({ queue: 'wait' }));
      await claim(store, 1, { queue: 'run' });
      await store.setProgress(running!, 1, { value: 10 });

      await store.setProgress(running!, 2, { value: 99, message: 'stale attempt' });
      await store.setProgress(running!, 0, { value: 98 });
      assert.deepEqual((await mustGet(store, running!)).progress, { value: 10 });

      await store.setProgress(waiting!, 0, { value: 50 });
      assert.equal((await mustGet(store, waiting!)).progress, undefined);

      await moveTo(store, running!, 'Succeeded');
      await store.setProgress(running!, 1, { value: 100, message: 'after the fact' });
      assert.notDeepEqual((await mustGet(store, running!)).progress, { value: 100, message: 'after the fact' });

      await store.setProgress('no-such-job', 1, { value: 1 });
      await store.setProgress('999999999', 1, { value: 1 });
    });
  });
}
