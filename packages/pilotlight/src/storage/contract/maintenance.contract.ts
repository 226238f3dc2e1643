import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  at,
  awaiting,
  claim,
  create,
  createOne,
  ids,
  moveTo,
  mustGet,
  newJob,
  scheduled,
  sorted,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

/** The queries and deletions behind the workers' maintenance pass. */
export function maintenanceContract(createStore: StoreFactory): void {
  describe('listDueJobs', () => {
    storeIt(createStore, 'lists Scheduled jobs whose runAt has come, up to the limit', async (store) => {
      const [early, onTime, late] = await create(store, scheduled(at(10)), scheduled(at(30)), scheduled(at(31)));
      const enqueued = await createOne(store, newJob({ runAt: at(5) }));

      assert.deepEqual(sorted(ids(await store.listDueJobs(at(30), 10))), sorted([early!, onTime!]));
      assert.deepEqual(ids(await store.listDueJobs(at(9), 10)), []);
      assert.equal((await store.listDueJobs(at(30), 1)).length, 1);
      assert.deepEqual(sorted(ids(await store.listDueJobs(at(1000), 10))), sorted([early!, onTime!, late!]));
      assert.ok(!ids(await store.listDueJobs(at(1000), 10)).includes(enqueued));

      await moveTo(store, early!, 'Enqueued');
      assert.deepEqual(ids(await store.listDueJobs(at(30), 10)), [onTime]);
      const [due] = await store.listDueJobs(at(30), 10);
      assert.equal(due?.state, 'Scheduled');
      assert.deepEqual(due?.runAt, at(30));
    });
  });

  describe('listExpiredLeases', () => {
    storeIt(createStore, 'lists Processing jobs whose lease ran out, up to the limit', async (store) => {
      const [a, b, c] = await create(store, newJob({ queue: 'a' }), newJob({ queue: 'b' }), newJob({ queue: 'c' }));
      await claim(store, 1, { queue: 'a', leaseUntil: at(30), serverName: 'dead' });
      await claim(store, 1, { queue: 'b', leaseUntil: at(60), serverName: 'alive' });
      await claim(store, 1, { queue: 'c', leaseUntil: at(20), serverName: 'finished' });
      await moveTo(store, c!, 'Succeeded');

      assert.deepEqual(ids(await store.listExpiredLeases(at(29), 10)), []);
      const expired = await store.listExpiredLeases(at(31), 10);
      assert.deepEqual(ids(expired), [a]);
      assert.equal(expired[0]!.serverName, 'dead');
      assert.equal(expired[0]!.attempt, 1);
      assert.deepEqual(sorted(ids(await store.listExpiredLeases(at(61), 10))), sorted([a!, b!]));
      assert.equal((await store.listExpiredLeases(at(61), 1)).length, 1);
    });
  });

  describe('listContinuations', () => {
    storeIt(createStore, 'lists the Awaiting continuations of one job', async (store) => {
      const [parent, other] = await create(store, newJob({ queue: 'parents' }), newJob({ queue: 'parents' }));
      const [first, second, moved, foreign] = await create(
        store,
        awaiting(parent!),
        awaiting(parent!),
        awaiting(parent!),
        awaiting(other!),
      );
      await moveTo(store, moved!, 'Enqueued');

      const continuations = await store.listContinuations(parent!);
      assert.deepEqual(sorted(ids(continuations)), sorted([first!, second!]));
      for (const child of continuations) {
        assert.equal(child.state, 'Awaiting');
        assert.equal(child.parentId, parent);
      }
      assert.deepEqual(ids(await store.listContinuations(other!)), [foreign]);
      assert.deepEqual(await store.listContinuations(first!), []);
      assert.deepEqual(await store.listContinuations('no-such-job'), []);
      assert.deepEqual(await store.listContinuations('999999999'), []);
    });
  });

  describe('listReleasableContinuations', () => {
    storeIt(createStore, 'lists continuations left Awaiting although their parent Succeeded or was Deleted', async (store) => {
      const parents = await create(
        store,
        ...['Succeeded', 'Deleted', 'Failed', 'Enqueued', 'Processing', 'Scheduled'].map((queue) => newJob({ queue })),
      );
      const [succeeded, deleted, failed, enqueued, processing, scheduledParent] = parents;
      const children = await create(store, ...parents.map((parent) => awaiting(parent)));
      const released = await createOne(store, awaiting(succeeded!));
      await moveTo(store, released, 'Enqueued');

      await moveTo(store, succeeded!, 'Succeeded');
      await moveTo(store, deleted!, 'Deleted');
      await moveTo(store, failed!, 'Failed');
      await claim(store, 1, { queue: 'Processing' });
      await moveTo(store, scheduledParent!, 'Scheduled');
      assert.equal((await mustGet(store, enqueued!)).state, 'Enqueued');
      assert.equal((await mustGet(store, processing!)).state, 'Processing');

      const releasable = await store.listReleasableContinuations(10);
      assert.deepEqual(sorted(ids(releasable)), sorted([children[0]!, children[1]!]));
      for (const child of releasable) assert.equal(child.state, 'Awaiting');
      assert.equal((await store.listReleasableContinuations(1)).length, 1);
    });

    storeIt(createStore, 'lists continuations whose parent is gone', async (store) => {
      const parent = await createOne(store);
      const child = await createOne(store, awaiting(parent));
      await moveTo(store, parent, 'Failed', { expiresAt: at(100) });
      assert.deepEqual(await store.listReleasableContinuations(10), []);

      assert.equal(await store.deleteExpiredJobs(at(100), 10), 1);
      assert.equal(await store.getJob(parent), undefined);
      assert.deepEqual(ids(await store.listReleasableContinuations(10)), [child]);
    });
  });

  describe('deleteExpiredJobs', () => {
    storeIt(createStore, 'deletes jobs whose expiresAt has passed, with their history, and returns how many', async (store) => {
      const [expired, later, kept, cleared, unfinished] = await create(store, newJob(), newJob(), newJob(), newJob(), newJob());
      await moveTo(store, expired!, 'Succeeded', { expiresAt: at(100) });
      await moveTo(store, later!, 'Deleted', { expiresAt: at(200) });
      await moveTo(store, kept!, 'Failed', { expiresAt: null });
      await moveTo(store, cleared!, 'Succeeded', { expiresAt: at(100) });
      await moveTo(store, cleared!, 'Enqueued'); // requeued: expiresAt absent clears the retention

      assert.equal(await store.deleteExpiredJobs(at(99), 10), 0);
      assert.ok(await store.getJob(expired!));

      assert.equal(await store.deleteExpiredJobs(at(150), 10), 1);
      assert.equal(await store.getJob(expired!), undefined);
      assert.deepEqual(await store.getHistory(expired!), []);
      assert.ok(await store.getJob(later!));

      assert.equal(await store.deleteExpiredJobs(at(1_000_000), 10), 1);
      assert.equal(await store.getJob(later!), undefined);
      assert.deepEqual(await store.getHistory(later!), []);
      for (const id of [kept!, cleared!, unfinished!]) {
        assert.ok(await store.getJob(id), `job ${id} should be kept`);
        assert.ok((await store.getHistory(id)).length > 0);
      }
      assert.equal(await store.deleteExpiredJobs(at(1_000_000), 10), 0);
    });

    storeIt(createStore, 'deletes at most `limit` jobs per call', async (store) => {
      const jobs = await create(store, newJob(), newJob(), newJob());
      for (const id of jobs) await moveTo(store, id, 'Succeeded', { expiresAt: at(100) });

      assert.equal(await store.deleteExpiredJobs(at(101), 2), 2);
      assert.equal((await store.countJobs()).Succeeded, 1);
      assert.equal(await store.deleteExpiredJobs(at(101), 2), 1);
      assert.equal((await store.countJobs()).Succeeded, 0);
      assert.deepEqual(await store.listJobs({}), []);
    });
  });
}
