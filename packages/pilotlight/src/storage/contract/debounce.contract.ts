import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Store } from '../store.ts';
import { assertCountsAreReal } from './counters.contract.ts';
import {
  at,
  claim,
  createOne,
  finished,
  historyOf,
  ids,
  moveTo,
  mustGet,
  newJob,
  scheduled,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

function debounced(key: string, overrides: Parameters<typeof newJob>[0] = {}) {
  return newJob({ ...overrides, debounceKey: key });
}

/** The jobs holding `key` that wait (Enqueued or Scheduled). */
async function waitingHolders(store: Store, key: string): Promise<string[]> {
  const jobs = await store.listJobs({ limit: 1_000 });
  return ids(jobs.filter((job) => job.debounceKey === key && (job.state === 'Enqueued' || job.state === 'Scheduled')));
}

/** createJobs with a `debounceKey`: the new job replaces the waiting holder of the key. */
export function debounceContract(createStore: StoreFactory): void {
  describe('debounce keys', () => {
    storeIt(
      createStore,
      'a new job replaces the Enqueued holder of its key, which moves to Deleted with a reason naming the new job',
      async (store) => {
        const first = await createOne(store, debounced('reindex:42', { argsJson: '[1]' }));
        const [result] = await store.createJobs([debounced('reindex:42', { argsJson: '[2]', state: { name: 'Enqueued', at: at(5) } })]);
        assert.equal(result!.created, true);
        assert.equal(result!.replacedId, first);
        assert.notEqual(result!.id, first);

        const replaced = await mustGet(store, first);
        assert.equal(replaced.state, 'Deleted');
        assert.equal(replaced.stateReason, `Debounced: replaced by job ${result!.id}`);
        const history = await historyOf(store, first);
        assert.deepEqual(
          history.map((state) => [state.name, state.reason]),
          [
            ['Enqueued', 'Enqueued by the contract suite'],
            ['Deleted', `Debounced: replaced by job ${result!.id}`],
          ],
        );

        const replacement = await mustGet(store, result!.id);
        assert.equal(replacement.state, 'Enqueued');
        assert.equal(replacement.debounceKey, 'reindex:42');
        assert.equal(replacement.argsJson, '[2]');
        assert.deepEqual(await waitingHolders(store, 'reindex:42'), [result!.id]);
      },
    );

    storeIt(createStore, 'countJobs and queueStats are right at once after a replacement', async (store) => {
      await createOne(store, debounced('d', { queue: 'search', type: 'Reindex' }));
      await createOne(store, debounced('d', { queue: 'search', type: 'Reindex' }));
      assert.deepEqual(await store.countJobs({ queue: 'search' }), {
        Enqueued: 1,
        Scheduled: 0,
        Awaiting: 0,
        Processing: 0,
        Succeeded: 0,
        Failed: 0,
        Deleted: 1,
      });
      await createOne(store, scheduled(at(100), { debounceKey: 'd', queue: 'search', type: 'Reindex' }));
      await assertCountsAreReal(store, 'after two replacements');
      assert.equal((await store.countJobs()).Deleted, 2);
      assert.equal((await store.countJobs()).Scheduled, 1);
    });

    storeIt(createStore, "a Scheduled holder is replaced: the key's due time becomes the new job's runAt", async (store) => {
      const first = await createOne(store, scheduled(at(100), { debounceKey: 'digest' }));
      const [result] = await store.createJobs([scheduled(at(200), { debounceKey: 'digest' })]);
      assert.equal(result!.replacedId, first);
      assert.equal((await mustGet(store, first)).state, 'Deleted');
      const replacement = await mustGet(store, result!.id);
      assert.equal(replacement.state, 'Scheduled');
      assert.deepEqual(replacement.runAt, at(200));
      assert.deepEqual(await store.listDueJobs(at(150), 10), [], 'nothing of the key is due at the old time');
      assert.deepEqual(ids(await store.listDueJobs(at(200), 10)), [result!.id]);
    });

    storeIt(createStore, 'an Enqueued job replaces a Scheduled holder, and a Scheduled job an Enqueued one', async (store) => {
      const later = await createOne(store, scheduled(at(100), { debounceKey: 'k' }));
      const [now] = await store.createJobs([debounced('k')]);
      assert.equal(now!.replacedId, later);
      const [delayed] = await store.createJobs([scheduled(at(300), { debounceKey: 'k' })]);
      assert.equal(delayed!.replacedId, now!.id);
      assert.deepEqual(await waitingHolders(store, 'k'), [delayed!.id]);
    });

    storeIt(
      createStore,
      'a Processing holder keeps running: the new job waits behind it, and the next one replaces only the waiting one',
      async (store) => {
        const running = await createOne(store, debounced('k'));
        const [claimed] = await claim(store, 1);
        const [waiting] = await store.createJobs([debounced('k')]);
        assert.equal(waiting!.created, true);
        assert.equal(waiting!.replacedId, undefined);
        assert.equal((await mustGet(store, running)).state, 'Processing');

        const [latest] = await store.createJobs([debounced('k')]);
        assert.equal(latest!.replacedId, waiting!.id);
        assert.equal((await mustGet(store, running)).state, 'Processing');
        assert.deepEqual(await waitingHolders(store, 'k'), [latest!.id]);
        const [done] = await store.transition([finished(claimed!, { name: 'Succeeded', at: at(20) })]);
        assert.equal(done?.state, 'Succeeded');
      },
    );

    storeIt(createStore, 'finished and Awaiting jobs of the key are never replaced', async (store) => {
      const parent = await createOne(store, newJob({ queue: 'parents' }));
      const succeeded = await createOne(store, debounced('k'));
      await claim(store, 1);
      await moveTo(store, succeeded, 'Succeeded');
      const failed = await createOne(store, debounced('k'));
      await claim(store, 1, { now: at(11) });
      await moveTo(store, failed, 'Failed');
      const deleted = await createOne(store, debounced('k'));
      await moveTo(store, deleted, 'Deleted');
      const child = await createOne(store, newJob({ parentId: parent, debounceKey: 'k', state: { name: 'Awaiting', at: at(0) } }));

      const [result] = await store.createJobs([debounced('k')]);
      assert.equal(result!.replacedId, undefined);
      assert.deepEqual(
        [await mustGet(store, succeeded), await mustGet(store, failed), await mustGet(store, deleted), await mustGet(store, child)].map(
          (job) => job.state,
        ),
        ['Succeeded', 'Failed', 'Deleted', 'Awaiting'],
      );
    });

    storeIt(createStore, 'keys are independent, and jobs without a key are never replaced', async (store) => {
      const [a, b, plain] = [await createOne(store, debounced('a')), await createOne(store, debounced('b')), await createOne(store)];
      const [result] = await store.createJobs([debounced('a')]);
      assert.equal(result!.replacedId, a);
      assert.equal((await mustGet(store, b)).state, 'Enqueued');
      assert.equal((await mustGet(store, plain)).state, 'Enqueued');
    });

    storeIt(createStore, 'within one createJobs call, a later job of the key replaces the earlier one', async (store) => {
      const [first, second, other] = await store.createJobs([debounced('k'), debounced('k'), debounced('other')]);
      assert.equal(first!.replacedId, undefined);
      assert.equal(second!.replacedId, first!.id);
      assert.equal(other!.replacedId, undefined);
      assert.equal((await mustGet(store, first!.id)).stateReason, `Debounced: replaced by job ${second!.id}`);
      assert.deepEqual(await waitingHolders(store, 'k'), [second!.id]);
    });

    storeIt(
      createStore,
      'racing producers leave exactly one waiting job of the key; every other one is Deleted as Debounced',
      async (store) => {
        const results = (
          await Promise.all(Array.from({ length: 8 }, (_, i) => store.createJobs([debounced('k', { argsJson: `[${i}]` })])))
        ).flat();
        assert.equal(results.length, 8);
        for (const result of results) assert.equal(result.created, true);
        const holders = await waitingHolders(store, 'k');
        assert.equal(holders.length, 1);
        const created = new Set(ids(results));
        for (const result of results) {
          if (result.id === holders[0]) continue;
          const job = await mustGet(store, result.id);
          assert.equal(job.state, 'Deleted');
          const replacer = /^Debounced: replaced by job (.+)$/.exec(job.stateReason ?? '')?.[1];
          assert.ok(
            replacer && created.has(replacer) && replacer !== result.id,
            `job ${result.id} names the job that replaced it: ${job.stateReason}`,
          );
        }
        assert.deepEqual(
          results.map((result) => result.replacedId).filter((id) => id !== undefined).length,
          7,
          'each of the 7 replaced jobs is named by the result that replaced it',
        );
        await assertCountsAreReal(store, 'after racing producers');
      },
    );

    storeIt(
      createStore,
      'a transition that would make a second waiting job of a key (requeue by hand, retry) never fails the other changes, a retry is never refused (the job is not left Processing), and one waiting job keeps the key',
      async (store) => {
        const running = await createOne(store, debounced('k'));
        const [claimed] = await claim(store, 1);
        const waiting = await createOne(store, debounced('k'));
        const [replaced] = await store.createJobs([debounced('k')]);
        const other = await createOne(store);
        const results = await store.transition([
          { id: waiting, expect: { state: 'Deleted' }, to: { name: 'Enqueued', reason: 'Requeued by hand', at: at(30) } },
          finished(claimed!, { name: 'Scheduled', at: at(30), runAt: at(90), retry: true }, { runAt: at(90), retryCount: 1 }),
          { id: other, expect: { state: 'Enqueued' }, to: { name: 'Deleted', reason: 'unrelated', at: at(30) } },
        ]);
        assert.equal(results[1]?.state, 'Scheduled', 'the retry of the running job applied');
        assert.equal((await mustGet(store, running)).state, 'Scheduled');
        assert.equal(results[2]?.state, 'Deleted', 'the unrelated change applied');
        assert.equal(
          (await waitingHolders(store, 'k')).length,
          1,
          `one waiting job of the key among ${running}, ${waiting} and ${replaced!.id}`,
        );
        await assertCountsAreReal(store, 'after the transitions');
      },
    );
  });
}
