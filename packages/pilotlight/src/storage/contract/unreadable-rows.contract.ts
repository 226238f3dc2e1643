import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Store } from '../store.ts';
import {
  ALL_STATES,
  at,
  claim,
  create,
  createOne,
  historyOf,
  ids,
  moveTo,
  mustGet,
  newJob,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

/**
 * Writes rows as a broken writer, a hand edit or an older version might have: runs `sql` (on the
 * table `jobs`, ids as written in it) with the store's own checks of the schema lifted.
 */
export type CorruptRows = (store: Store, sql: string) => Promise<void>;

/**
 * Rows the store cannot read (SQL both stores take: JSON of the wrong shape, an unknown state, a
 * Processing job without a lease, garbage in the history) never make a read throw, nor a claim fail
 * or stall for the jobs behind them: a claimed one ends Failed, the reason naming the column.
 */
export function unreadableRowsContract(createStore: StoreFactory, corrupt: CorruptRows): void {
  describe('unreadable rows', () => {
    storeIt(createStore, 'a claim fails the rows it cannot read, naming the column, and claims the jobs behind them', async (store) => {
      const [badMetadata, badRetry, good1, good2] = await create(
        store,
        newJob({ priority: 5, metadata: { tenant: 'acme' } }),
        newJob({ priority: 5, retry: { attempts: 3 } }),
        newJob(),
        newJob(),
      );
      await corrupt(store, `UPDATE jobs SET metadata = '[1,2]' WHERE id = ${badMetadata}`);
      await corrupt(store, `UPDATE jobs SET retry = '"fast"' WHERE id = ${badRetry}`);

      const claimed = await claim(store, 2, { now: at(10) });
      assert.deepEqual(ids(claimed), [good1, good2]);
      assert.deepEqual(await store.claimJobs({ queues: ['default'], limit: 5, serverName: 'w', now: at(11), leaseUntil: at(40) }), []);

      const failedMetadata = await mustGet(store, badMetadata!);
      assert.equal(failedMetadata.state, 'Failed');
      assert.match(failedMetadata.stateReason ?? '', /^Unreadable row: column metadata is not a JSON object of strings \(an array\)$/);
      assert.deepEqual(failedMetadata.metadata, {});
      const failedRetry = await mustGet(store, badRetry!);
      assert.equal(failedRetry.state, 'Failed');
      assert.match(failedRetry.stateReason ?? '', /^Unreadable row: column retry is not retry options .*\(a string: "fast"\)$/);
      assert.deepEqual(failedRetry.retry, {});

      const history = await historyOf(store, badMetadata!);
      assert.deepEqual(
        history.map((state) => state.name),
        ['Enqueued', 'Processing', 'Failed'],
      );
      assert.deepEqual(history[2], {
        name: 'Failed',
        at: at(10),
        reason: failedMetadata.stateReason,
        error: { type: 'UnreadableRow', message: failedMetadata.stateReason },
      });
      assert.equal((await store.countJobs()).Failed, 2);
      assert.equal((await store.countJobs()).Processing, 2);
      assert.deepEqual(await store.countOutcomesPerMinute(at(0)), [{ minute: at(0), succeeded: 0, failed: 2 }]);
    });

    storeIt(createStore, 'a worker batch (transitionAndClaim) also fails them and claims the jobs behind them', async (store) => {
      const [running] = await create(store, newJob({ priority: 9 }));
      const [job] = await claim(store, 1);
      const [bad, good] = await create(store, newJob({ priority: 5 }), newJob());
      await corrupt(store, `UPDATE jobs SET metadata = '"not an object"' WHERE id = ${bad}`);

      const result = await store.transitionAndClaim(
        [{ id: running!, job, expect: { state: 'Processing', attempt: 1, serverName: 'worker-1' }, to: { name: 'Succeeded', at: at(20) } }],
        { queues: ['default'], limit: 1, serverName: 'worker-1', now: at(20), leaseUntil: at(50) },
      );
      assert.equal(result.transitioned[0]?.state, 'Succeeded');
      assert.deepEqual(ids(result.claimed), [good]);
      const failed = await mustGet(store, bad!);
      assert.equal(failed.state, 'Failed');
      assert.match(
        failed.stateReason ?? '',
        /^Unreadable row: column metadata is not a JSON object of strings \(a string: "not an object"\)$/,
      );
      const counts = await store.countJobs();
      assert.deepEqual([counts.Enqueued, counts.Processing, counts.Succeeded, counts.Failed], [0, 1, 1, 1]);
    });

    storeIt(
      createStore,
      'getJob and listJobs return an unreadable row with safe values and the reason, and do not throw',
      async (store) => {
        const id = await createOne(store, newJob({ metadata: { tenant: 'acme' }, retry: { attempts: 2 } }));
        await corrupt(store, `UPDATE jobs SET metadata = '{"tenant":42}', retry = '[]' WHERE id = ${id}`);

        const job = await mustGet(store, id);
        assert.equal(job.state, 'Enqueued');
        assert.deepEqual(job.metadata, {});
        assert.deepEqual(job.retry, {});
        assert.match(
          job.stateReason ?? '',
          /^Unreadable row: column retry is not retry options .*\(an array\); column metadata is not a JSON object of strings/,
        );
        const [listed] = await store.listJobs({});
        assert.deepEqual(listed, job);
      },
    );

    storeIt(
      createStore,
      'a state the store does not know: countJobs counts the 7 states only; getJob reads it as Failed, saying why',
      async (store) => {
        const [strange, normal] = await create(store, newJob(), newJob());
        await corrupt(store, `UPDATE jobs SET state = 'Bogus' WHERE id = ${strange}`);

        // The counters keep counting a row changed around the store as the store last wrote it.
        const counts = await store.countJobs();
        assert.deepEqual(Object.keys(counts).sort(), [...ALL_STATES].sort());
        assert.equal(counts.Enqueued, 2);
        const job = await mustGet(store, strange!);
        assert.equal(job.state, 'Failed');
        assert.match(job.stateReason ?? '', /^Unreadable row: column state holds "Bogus", not one of the 7 states/);
        assert.deepEqual(ids(await claim(store, 1)), [normal]);
      },
    );

    storeIt(createStore, 'a Processing job without a lease is listed with the expired leases', async (store) => {
      const [leaseless, running] = await create(store, newJob(), newJob());
      await claim(store, 2, { leaseUntil: at(100) });
      await corrupt(store, `UPDATE jobs SET lease_until = NULL WHERE id = ${leaseless}`);

      const expired = await store.listExpiredLeases(at(50), 10);
      assert.deepEqual(ids(expired), [leaseless]);
      assert.equal(expired[0]!.leaseUntil, undefined);
      assert.ok(!ids(expired).includes(running!));
    });

    storeIt(
      createStore,
      'garbage in the history: getHistory returns the entries it can read and one saying the rest is unreadable',
      async (store) => {
        const id = await createOne(store);
        await corrupt(store, `UPDATE jobs SET history = history || ',{"name":"Enq' WHERE id = ${id}`);
        await claim(store, 1, { now: at(10) });
        await moveTo(store, id, 'Succeeded');

        const history = await historyOf(store, id);
        assert.deepEqual(
          history.map((state) => state.name),
          ['Enqueued', 'Succeeded', 'Processing', 'Succeeded'],
        );
        // The marker stands where the garbage was, in the job's current state.
        assert.deepEqual({ ...history[1], reason: undefined }, { name: 'Succeeded', at: at(50), reason: undefined });
        assert.match(
          history[1]!.reason ?? '',
          /^Unreadable history: 13 of its \d+ characters are not history entries; the entries that could be read are kept$/,
        );
      },
    );
  });
}
