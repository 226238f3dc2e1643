import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { at, claim, create, createOne, finished, mustGet, moveTo, newJob, storeIt, type StoreFactory } from './fixtures.ts';

/** Stored as text and returned as given: spacing, key order and escapes included. */
const RESULTS = [
  '{"invoice":"INV-7","lines":[1,2,{"total":12.5,"tax":null}]}',
  '{ "b": 1,  "a": [ ] }',
  '"a string with \\"quotes\\", \\u0000 and é"',
  'null',
  '0',
  'false',
  `[${'"x",'.repeat(20_000)}"end"]`,
];

/** Transition.resultJson: what a handler returned, stored with the Succeeded state. */
export function resultsContract(createStore: StoreFactory): void {
  describe('job results', () => {
    storeIt(
      createStore,
      'a Succeeded transition stores its resultJson exactly: the transition, getJob and listJobs return it',
      async (store) => {
        const jobs = await create(store, ...RESULTS.map(() => newJob()));
        const running = await claim(store, jobs.length);
        const done = await store.transition(
          running.map((job, i) => finished(job, { name: 'Succeeded', at: at(20) }, { resultJson: RESULTS[i] })),
        );
        const listed = await store.listJobs({ state: 'Succeeded' });
        for (const [i, job] of running.entries()) {
          assert.equal(done[i]?.resultJson, RESULTS[i], 'as the transition returned it');
          assert.equal((await mustGet(store, job.id)).resultJson, RESULTS[i], 'as getJob returns it');
          assert.equal(listed.find((listedJob) => listedJob.id === job.id)?.resultJson, RESULTS[i], 'as listJobs returns it');
        }
      },
    );

    storeIt(createStore, 'transitionAndClaim stores the results of the attempts it records', async (store) => {
      const [first] = await create(store, newJob(), newJob());
      const [running] = await claim(store, 1);
      const { transitioned, claimed } = await store.transitionAndClaim(
        [finished(running!, { name: 'Succeeded', at: at(20) }, { resultJson: '{"sent":3}' })],
        { queues: ['default'], limit: 1, serverName: 'worker-1', now: at(20), leaseUntil: at(50) },
      );
      assert.equal(transitioned[0]?.resultJson, '{"sent":3}');
      assert.equal(claimed.length, 1);
      assert.equal(claimed[0]!.resultJson, undefined);
      assert.equal((await mustGet(store, first!)).resultJson, '{"sent":3}');
    });

    storeIt(createStore, 'a job that returned nothing has no result', async (store) => {
      const id = await createOne(store);
      const [running] = await claim(store, 1);
      const [done] = await store.transition([finished(running!, { name: 'Succeeded', at: at(20) })]);
      assert.equal(done?.resultJson, undefined);
      assert.equal((await mustGet(store, id)).resultJson, undefined);
    });

    storeIt(
      createStore,
      'a job run again (requeued by hand) reports the result of its latest success, or none if it returned nothing',
      async (store) => {
        const id = await createOne(store);
        const [first] = await claim(store, 1);
        await store.transition([finished(first!, { name: 'Succeeded', at: at(20) }, { resultJson: '"first"' })]);
        await moveTo(store, id, 'Enqueued');
        const [second] = await claim(store, 1, { now: at(60), leaseUntil: at(90) });
        await store.transition([finished(second!, { name: 'Succeeded', at: at(70) }, { resultJson: '"second"' })]);
        assert.equal((await mustGet(store, id)).resultJson, '"second"');

        await moveTo(store, id, 'Enqueued');
        const [third] = await claim(store, 1, { now: at(100), leaseUntil: at(130) });
        await store.transition([finished(third!, { name: 'Succeeded', at: at(110) })]);
        assert.equal((await mustGet(store, id)).resultJson, undefined);
      },
    );

    storeIt(createStore, 'searchJobs returns results too', async (store) => {
      const id = await createOne(store, newJob({ argsJson: '["needle"]' }));
      const [running] = await claim(store, 1);
      await store.transition([finished(running!, { name: 'Succeeded', at: at(20) }, { resultJson: '{"ok":true}' })]);
      const page = await store.searchJobs({ text: 'needle' });
      assert.deepEqual(
        page.jobs.map((job) => [job.id, job.resultJson]),
        [[id, '{"ok":true}']],
      );
    });
  });
}
