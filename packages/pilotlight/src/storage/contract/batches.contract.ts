import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ErrorCodes, JobNotFoundError, PilotlightError } from '../../errors.ts';
import { emptyCounts } from '../job-queries.ts';
import type { NewJob, Store } from '../store.ts';
import type { BatchAwait } from '../../types.ts';
import { at, awaiting, claim, create, createOne, ids, moveTo, mustGet, newJob, sorted, storeIt, type StoreFactory } from './fixtures.ts';

function member(batchId: string, overrides: Partial<NewJob> = {}): NewJob {
  return newJob({ ...overrides, batchId });
}

/** A batch continuation: Awaiting, until the batch's members are done. */
function continuation(batchId: string, when: BatchAwait['when'] = 'finished', overrides: Partial<NewJob> = {}): NewJob {
  return newJob({
    queue: 'after',
    ...overrides,
    awaitsBatch: { batchId, when },
    state: { name: 'Awaiting', reason: `Waiting for batch ${batchId}`, at: at(0) },
  });
}

async function createContinuation(store: Store, job: NewJob): Promise<{ id: string; batchUnfinished: number | undefined }> {
  const [result] = await store.createJobs([job]);
  assert.equal(result!.created, true);
  return { id: result!.id, batchUnfinished: result!.batchUnfinished };
}

/** Batches: batchId, countBatch, addToBatch, batch continuations. */
export function batchesContract(createStore: StoreFactory): void {
  describe('batches', () => {
    storeIt(
      createStore,
      "stores a job's batchId; listJobs({ batchId }) lists only that batch's members, with the other filters",
      async (store) => {
        const [a1, a2, , a3] = await create(
          store,
          member('a', { queue: 'mail' }),
          member('a', { queue: 'sms' }),
          member('b'),
          member('a', { queue: 'mail' }),
          newJob(),
        );
        assert.equal((await mustGet(store, a1!)).batchId, 'a');
        assert.deepEqual(ids(await store.listJobs({ batchId: 'a' })), [a3, a2, a1]);
        assert.deepEqual(ids(await store.listJobs({ batchId: 'a', queue: 'mail' })), [a3, a1]);
        assert.deepEqual(ids(await store.listJobs({ batchId: 'a', limit: 2 })), [a3, a2]);
        assert.deepEqual(ids(await store.listJobs({ batchId: 'a', before: a2! })), [a1]);
        await moveTo(store, a2!, 'Deleted');
        assert.deepEqual(ids(await store.listJobs({ batchId: 'a', state: 'Deleted' })), [a2]);
        assert.deepEqual(await store.listJobs({ batchId: 'unknown' }), []);
      },
    );

    storeIt(createStore, 'countBatch counts the members in each state, across queues; all zero for an unknown batch', async (store) => {
      const parent = await createOne(store);
      const [running, succeeded, failed, deleted] = await create(
        store,
        member('b', { priority: 9 }),
        member('b', { queue: 'mail' }),
        member('b', { queue: 'sms' }),
        member('b'),
        member('b', { state: { name: 'Scheduled', at: at(0), runAt: at(100) } }),
        awaiting(parent, { batchId: 'b' }),
        member('b', { queue: 'mail' }),
        member('other'),
      );
      await claim(store, 1);
      assert.equal((await mustGet(store, running!)).state, 'Processing');
      await moveTo(store, succeeded!, 'Succeeded');
      await moveTo(store, failed!, 'Failed');
      await moveTo(store, deleted!, 'Deleted');
      assert.deepEqual(await store.countBatch('b'), {
        ...emptyCounts(),
        Enqueued: 1,
        Scheduled: 1,
        Awaiting: 1,
        Processing: 1,
        Succeeded: 1,
        Failed: 1,
        Deleted: 1,
      });
      assert.deepEqual(await store.countBatch('unknown'), emptyCounts());
    });

    storeIt(createStore, 'addToBatch makes existing jobs members of a new batch', async (store) => {
      const [a, b, outsider] = await create(store, newJob(), newJob({ queue: 'mail' }), newJob());
      await moveTo(store, b!, 'Succeeded');
      await store.addToBatch('gathered', [a!, b!]);
      assert.equal((await mustGet(store, a!)).batchId, 'gathered');
      assert.equal((await mustGet(store, b!)).batchId, 'gathered');
      assert.equal((await mustGet(store, outsider!)).batchId, undefined);
      assert.deepEqual(sorted(ids(await store.listJobs({ batchId: 'gathered' }))), sorted([a!, b!]));
      assert.deepEqual(await store.countBatch('gathered'), { ...emptyCounts(), Enqueued: 1, Succeeded: 1 });
    });

    storeIt(createStore, 'addToBatch with an unknown id throws JobNotFoundError naming it, and writes nothing', async (store) => {
      const [a, b] = await create(store, newJob(), newJob());
      await assert.rejects(store.addToBatch('gathered', [a!, '999999999', b!]), (error: unknown) => {
        assert.ok(error instanceof JobNotFoundError, `expected JobNotFoundError, got ${String(error)}`);
        assert.equal(error.jobId, '999999999');
        return true;
      });
      await assert.rejects(store.addToBatch('gathered', [a!, 'no-such-job']), JobNotFoundError);
      assert.equal((await mustGet(store, a!)).batchId, undefined);
      assert.equal((await mustGet(store, b!)).batchId, undefined);
      assert.deepEqual(await store.countBatch('gathered'), emptyCounts());
    });

    storeIt(createStore, 'addToBatch with a job already in a batch throws BATCH_CONFLICT and writes nothing', async (store) => {
      const [free, inCreated] = await create(store, newJob(), member('created'));
      const gathered = await createOne(store);
      await store.addToBatch('first', [gathered]);
      for (const taken of [inCreated!, gathered]) {
        await assert.rejects(store.addToBatch('second', [free!, taken]), (error: unknown) => {
          assert.ok(error instanceof PilotlightError, `expected a PilotlightError, got ${String(error)}`);
          assert.equal(error.code, ErrorCodes.BATCH_CONFLICT);
          return true;
        });
      }
      assert.equal((await mustGet(store, free!)).batchId, undefined);
      assert.equal((await mustGet(store, inCreated!)).batchId, 'created');
      assert.equal((await mustGet(store, gathered)).batchId, 'first');
      assert.deepEqual(await store.countBatch('second'), emptyCounts());
    });
  });

  describe('batch continuations', () => {
    storeIt(
      createStore,
      'a batch continuation is stored Awaiting with what it waits for, and is not a member of that batch',
      async (store) => {
        await create(store, member('b'), member('b'));
        const { id } = await createContinuation(store, continuation('b', 'succeeded'));
        const job = await mustGet(store, id);
        assert.equal(job.state, 'Awaiting');
        assert.deepEqual(job.awaitsBatch, { batchId: 'b', when: 'succeeded' });
        assert.equal(job.batchId, undefined);
        assert.deepEqual(await store.countBatch('b'), { ...emptyCounts(), Enqueued: 2 });
        assert.equal((await store.listJobs({ batchId: 'b' })).length, 2);
      },
    );

    storeIt(
      createStore,
      'batchUnfinished counts the members not Succeeded, Failed or Deleted when the continuation is stored',
      async (store) => {
        const parent = await createOne(store);
        const [done, failed, gone, running] = await create(
          store,
          member('b'),
          member('b'),
          member('b'),
          member('b', { priority: 9 }),
          member('b', { state: { name: 'Scheduled', at: at(0), runAt: at(100) } }),
          awaiting(parent, { batchId: 'b' }),
          member('b'),
        );
        await claim(store, 1);
        assert.equal((await mustGet(store, running!)).state, 'Processing');
        await moveTo(store, done!, 'Succeeded');
        await moveTo(store, failed!, 'Failed');
        await moveTo(store, gone!, 'Deleted');
        assert.equal((await createContinuation(store, continuation('b'))).batchUnfinished, 4);
      },
    );

    storeIt(
      createStore,
      'a continuation of a batch whose members all finished before it was created reports batchUnfinished 0',
      async (store) => {
        const members = await create(store, member('b'), member('b'), member('b'));
        await moveTo(store, members[0]!, 'Succeeded');
        await moveTo(store, members[1]!, 'Failed');
        await moveTo(store, members[2]!, 'Deleted');
        assert.equal((await createContinuation(store, continuation('b', 'succeeded'))).batchUnfinished, 0);
        assert.equal((await createContinuation(store, continuation('unknown'))).batchUnfinished, 0, 'a batch without members');
      },
    );

    storeIt(createStore, 'members created in the same call before the continuation count as unfinished', async (store) => {
      const results = await store.createJobs([member('b'), member('b', { queue: 'mail' }), continuation('b')]);
      assert.equal(results[2]!.batchUnfinished, 2);
      assert.equal(results[0]!.batchUnfinished, undefined, 'members report nothing');
    });

    storeIt(createStore, 'listBatchContinuations lists the Awaiting continuations of one batch', async (store) => {
      await create(store, member('b'), member('other'));
      const first = (await createContinuation(store, continuation('b'))).id;
      const second = (await createContinuation(store, continuation('b', 'succeeded', { queue: 'reports' }))).id;
      const released = (await createContinuation(store, continuation('b'))).id;
      await createContinuation(store, continuation('other'));
      await moveTo(store, released, 'Enqueued');
      assert.deepEqual(sorted(ids(await store.listBatchContinuations('b'))), sorted([first, second]));
      assert.deepEqual(await store.listBatchContinuations('unknown'), []);
    });

    storeIt(
      createStore,
      'listReleasableBatchContinuations: Awaiting batch continuations whose batch has no unfinished member left',
      async (store) => {
        const parent = await createOne(store, newJob({ queue: 'parents' }));
        const [doneA, doneB] = await create(store, member('done'), member('done', { queue: 'mail' }));
        await moveTo(store, doneA!, 'Succeeded');
        await moveTo(store, doneB!, 'Failed');
        const [pendingA] = await create(store, member('pending'), member('pending'));
        await moveTo(store, pendingA!, 'Succeeded');

        const ready = (await createContinuation(store, continuation('done'))).id;
        const readyToo = (await createContinuation(store, continuation('done', 'succeeded'))).id;
        const empty = (await createContinuation(store, continuation('nobody'))).id;
        await createContinuation(store, continuation('pending'));
        const releasedAlready = (await createContinuation(store, continuation('done'))).id;
        await moveTo(store, releasedAlready, 'Enqueued');
        await createOne(store, awaiting(parent)); // a job continuation, not a batch's

        assert.deepEqual(sorted(ids(await store.listReleasableBatchContinuations(10))), sorted([ready, readyToo, empty]));
        assert.equal((await store.listReleasableBatchContinuations(2)).length, 2);
      },
    );

    storeIt(createStore, 'a batch continuation becomes releasable once its last member finishes', async (store) => {
      const [a, b] = await create(store, member('b'), member('b'));
      const { id, batchUnfinished } = await createContinuation(store, continuation('b'));
      assert.equal(batchUnfinished, 2);
      await moveTo(store, a!, 'Succeeded');
      assert.deepEqual(await store.listReleasableBatchContinuations(10), []);
      await moveTo(store, b!, 'Deleted');
      assert.deepEqual(ids(await store.listReleasableBatchContinuations(10)), [id]);
      assert.deepEqual(ids(await store.listBatchContinuations('b')), [id]);
    });

    storeIt(createStore, 'listReleasableContinuations leaves batch continuations out (they have no parent job)', async (store) => {
      const [a] = await create(store, member('solo'));
      const waiting = (await createContinuation(store, continuation('solo'))).id;
      assert.deepEqual(await store.listReleasableContinuations(10), []);
      await moveTo(store, a!, 'Succeeded');
      assert.deepEqual(await store.listReleasableContinuations(10), []);
      assert.deepEqual(ids(await store.listReleasableBatchContinuations(10)), [waiting]);
    });

    storeIt(createStore, 'members gathered by addToBatch count for the continuation like created ones', async (store) => {
      const [a, b] = await create(store, newJob(), newJob());
      await moveTo(store, a!, 'Succeeded');
      await store.addToBatch('gathered', [a!, b!]);
      const { id, batchUnfinished } = await createContinuation(store, continuation('gathered'));
      assert.equal(batchUnfinished, 1);
      assert.deepEqual(await store.listReleasableBatchContinuations(10), []);
      await moveTo(store, b!, 'Failed');
      assert.deepEqual(ids(await store.listReleasableBatchContinuations(10)), [id]);
    });
  });
}
