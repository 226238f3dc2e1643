import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { QueueSettings, StoreEvent } from '../store.ts';
import {
  at,
  claim,
  claimUpTo,
  create,
  createOne,
  finished,
  ids,
  mustGet,
  newJob,
  recordEvents,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

/** The settings without `updatedAt`, which the store stamps with its own clock. */
function settingsOf(settings: QueueSettings): Omit<QueueSettings, 'updatedAt'> {
  const { updatedAt, ...rest } = settings;
  assert.ok(updatedAt instanceof Date && !Number.isNaN(updatedAt.getTime()), `updatedAt of queue ${settings.queue} is a time`);
  return rest;
}

const wakeOf = (queue: string) => (event: StoreEvent) => event.type === 'wake' && event.queue === queue;

/** listQueueSettings, setQueueSettings, and how claims obey them (paused queues, queue concurrency limits). */
export function queueSettingsContract(createStore: StoreFactory): void {
  describe('queue settings', () => {
    storeIt(createStore, 'no queue has settings in a new store', async (store) => {
      assert.deepEqual(await store.listQueueSettings(), []);
    });

    storeIt(createStore, 'setQueueSettings returns the stored settings, listQueueSettings lists them by queue name', async (store) => {
      const mail = await store.setQueueSettings('mail', { paused: true });
      assert.deepEqual(settingsOf(mail), { queue: 'mail', paused: true, concurrencyLimit: undefined, rateLimit: undefined });
      const api = await store.setQueueSettings('api', { concurrencyLimit: 4, rateLimit: { max: 10, per: 1_000 } });
      assert.deepEqual(settingsOf(api), { queue: 'api', paused: false, concurrencyLimit: 4, rateLimit: { max: 10, per: 1_000 } });

      const listed = await store.listQueueSettings();
      assert.deepEqual(listed.map(settingsOf), [settingsOf(api), settingsOf(mail)]);
      assert.deepEqual(listed, [api, mail]);
    });

    storeIt(createStore, 'a change keeps the fields it leaves out, null clears a limit, and updatedAt moves forward', async (store) => {
      const first = await store.setQueueSettings('api', { paused: true, concurrencyLimit: 4, rateLimit: { max: 10, per: 1_000 } });

      const resumed = await store.setQueueSettings('api', { paused: false });
      assert.deepEqual(settingsOf(resumed), { queue: 'api', paused: false, concurrencyLimit: 4, rateLimit: { max: 10, per: 1_000 } });
      assert.ok(resumed.updatedAt.getTime() >= first.updatedAt.getTime());

      const unchanged = await store.setQueueSettings('api', {});
      assert.deepEqual(settingsOf(unchanged), settingsOf(resumed));

      const noLimit = await store.setQueueSettings('api', { concurrencyLimit: null });
      assert.deepEqual(settingsOf(noLimit), {
        queue: 'api',
        paused: false,
        concurrencyLimit: undefined,
        rateLimit: { max: 10, per: 1_000 },
      });

      const noRate = await store.setQueueSettings('api', { rateLimit: null, concurrencyLimit: 2 });
      assert.deepEqual(settingsOf(noRate), { queue: 'api', paused: false, concurrencyLimit: 2, rateLimit: undefined });

      const cleared = await store.setQueueSettings('api', { concurrencyLimit: null, rateLimit: null });
      assert.deepEqual(settingsOf(cleared), { queue: 'api', paused: false, concurrencyLimit: undefined, rateLimit: undefined });
      assert.deepEqual(await store.listQueueSettings(), [cleared]);
    });

    storeIt(createStore, 'clearing a limit the queue never had is stored like any change', async (store) => {
      const settings = await store.setQueueSettings('fresh', { concurrencyLimit: null, rateLimit: null });
      assert.deepEqual(settingsOf(settings), { queue: 'fresh', paused: false, concurrencyLimit: undefined, rateLimit: undefined });
    });

    storeIt(createStore, 'settings of one queue leave the others alone', async (store) => {
      await store.setQueueSettings('a', { paused: true, concurrencyLimit: 1 });
      await store.setQueueSettings('b', { rateLimit: { max: 5, per: 60_000 } });
      await store.setQueueSettings('a', { paused: false });
      assert.deepEqual((await store.listQueueSettings()).map(settingsOf), [
        { queue: 'a', paused: false, concurrencyLimit: 1, rateLimit: undefined },
        { queue: 'b', paused: false, concurrencyLimit: undefined, rateLimit: { max: 5, per: 60_000 } },
      ]);
    });
  });

  describe('paused queues', () => {
    storeIt(createStore, 'a paused queue is claimed nothing, while the other queues of the same claim still are', async (store) => {
      await store.setQueueSettings('paused', { paused: true });
      const [, , open1, open2] = await create(
        store,
        newJob({ queue: 'paused', priority: 9 }),
        newJob({ queue: 'paused', priority: 9 }),
        newJob({ queue: 'open' }),
        newJob({ queue: 'open' }),
      );
      assert.deepEqual(ids(await claimUpTo(store, 10, { queues: ['paused', 'open'] })), [open1, open2]);
      assert.deepEqual(await claimUpTo(store, 10, { queue: 'paused', now: at(11) }), []);
      assert.equal((await store.countJobs({ queue: 'paused' })).Enqueued, 2, 'its jobs still wait');
    });

    storeIt(createStore, 'jobs are still created in a paused queue; resuming it makes them claimable', async (store) => {
      await store.setQueueSettings('mail', { paused: true });
      const [a, b] = await create(store, newJob({ queue: 'mail' }), newJob({ queue: 'mail' }));
      assert.equal((await mustGet(store, a!)).state, 'Enqueued');
      assert.deepEqual(await claimUpTo(store, 10, { queue: 'mail' }), []);
      await store.setQueueSettings('mail', { paused: false });
      assert.deepEqual(ids(await claimUpTo(store, 10, { queue: 'mail', now: at(11) })), [a, b]);
    });

    storeIt(createStore, 'pausing leaves running jobs alone: they finish as usual', async (store) => {
      const id = await createOne(store, newJob({ queue: 'mail' }));
      const [running] = await claim(store, 1, { queue: 'mail' });
      await store.setQueueSettings('mail', { paused: true });
      const [done] = await store.transition([finished(running!, { name: 'Succeeded', at: at(20) })]);
      assert.equal(done?.state, 'Succeeded');
      assert.equal((await mustGet(store, id)).state, 'Succeeded');
    });

    storeIt(createStore, 'transitionAndClaim claims nothing from a paused queue, even a job its own changes enqueued', async (store) => {
      await store.setQueueSettings('mail', { paused: true });
      const id = await createOne(store, newJob({ queue: 'mail', state: { name: 'Scheduled', at: at(0), runAt: at(5) } }));
      const other = await createOne(store, newJob({ queue: 'sms' }));
      const job = await mustGet(store, id);
      const { transitioned, claimed } = await store.transitionAndClaim(
        [{ id, job, expect: { state: 'Scheduled' }, to: { name: 'Enqueued', at: at(6) } }],
        { queues: ['mail', 'sms'], limit: 5, serverName: 'w', now: at(6), leaseUntil: at(40) },
      );
      assert.equal(transitioned[0]?.state, 'Enqueued');
      assert.deepEqual(ids(claimed), [other]);
    });

    storeIt(createStore, 'resuming a queue wakes its workers', async (store) => {
      await store.setQueueSettings('mail', { paused: true });
      await createOne(store, newJob({ queue: 'mail' }));
      const { waitFor } = recordEvents(store);
      await store.setQueueSettings('mail', { paused: false });
      await waitFor('wake for queue mail on resume', wakeOf('mail'));
    });
  });

  describe('queue concurrency limits', () => {
    storeIt(createStore, "at most concurrencyLimit of the queue's jobs are Processing, this claim's included", async (store) => {
      await store.setQueueSettings('api', { concurrencyLimit: 2 });
      const jobs = await create(store, ...Array.from({ length: 5 }, (_, i) => newJob({ queue: 'api', runAt: at(i) })));
      assert.deepEqual(ids(await claimUpTo(store, 5, { queue: 'api' })), jobs.slice(0, 2));
      assert.deepEqual(await claimUpTo(store, 5, { queue: 'api', serverName: 'worker-2', now: at(11) }), []);

      const running = await store.listJobs({ state: 'Processing', queue: 'api' });
      await store.transition([finished(running[0]!, { name: 'Succeeded', at: at(20) })]);
      assert.deepEqual(ids(await claimUpTo(store, 5, { queue: 'api', now: at(21) })), [jobs[2]]);
    });

    storeIt(createStore, 'jobs already running when the limit is set count toward it', async (store) => {
      await create(store, ...Array.from({ length: 4 }, () => newJob({ queue: 'api' })));
      const running = await claim(store, 3, { queue: 'api' });
      await store.setQueueSettings('api', { concurrencyLimit: 2 });
      await store.transition([finished(running[0]!, { name: 'Succeeded', at: at(20) })]);
      assert.deepEqual(await claimUpTo(store, 5, { queue: 'api', now: at(21) }), [], 'two still run: the queue is at its limit');
      await store.transition([finished(running[1]!, { name: 'Succeeded', at: at(22) })]);
      assert.equal((await claimUpTo(store, 5, { queue: 'api', now: at(23) })).length, 1);
    });

    storeIt(createStore, "a queue at its limit holds back only its own jobs: the claim's other queues fill it", async (store) => {
      await store.setQueueSettings('api', { concurrencyLimit: 1 });
      await create(store, ...Array.from({ length: 50 }, () => newJob({ queue: 'api', priority: 9 })));
      const others = await create(store, ...Array.from({ length: 4 }, () => newJob({ queue: 'mail' })));
      const claimed = await claim(store, 5, { queues: ['api', 'mail'] });
      assert.equal(claimed.filter((job) => job.queue === 'api').length, 1);
      assert.deepEqual(ids(claimed.filter((job) => job.queue === 'mail')), others);
    });

    storeIt(createStore, 'raising or clearing the limit wakes the workers of the queue', async (store) => {
      await store.setQueueSettings('api', { concurrencyLimit: 1 });
      await create(store, newJob({ queue: 'api' }), newJob({ queue: 'api' }), newJob({ queue: 'api' }));
      await claim(store, 1, { queue: 'api' });

      const raised = recordEvents(store);
      await store.setQueueSettings('api', { concurrencyLimit: 2 });
      await raised.waitFor('wake for queue api when its limit is raised', wakeOf('api'));
      assert.equal((await claimUpTo(store, 5, { queue: 'api', now: at(11) })).length, 1);
      raised.unsubscribe();

      const cleared = recordEvents(store);
      await store.setQueueSettings('api', { concurrencyLimit: null });
      await cleared.waitFor('wake for queue api when its limit is cleared', wakeOf('api'));
      assert.equal((await claimUpTo(store, 5, { queue: 'api', now: at(12) })).length, 1);
    });

    storeIt(createStore, 'concurrent claims never take more jobs of a queue than its limit', async (store) => {
      await store.setQueueSettings('api', { concurrencyLimit: 3 });
      await create(store, ...Array.from({ length: 30 }, () => newJob({ queue: 'api' })));
      const batches = await Promise.all(
        ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((serverName) => claimUpTo(store, 3, { queue: 'api', serverName })),
      );
      assert.ok(batches.flat().length <= 3, `${batches.flat().length} jobs claimed`);
      await claimUpTo(store, 10, { queue: 'api', serverName: 'w7', now: at(11) });
      assert.equal((await store.countJobs({ queue: 'api' })).Processing, 3);
    });

    storeIt(createStore, 'a queue limit and job concurrency keys both apply', async (store) => {
      await store.setQueueSettings('api', { concurrencyLimit: 2 });
      const [k1, , free] = await create(
        store,
        newJob({ queue: 'api', concurrency: { key: 'k', limit: 1 }, priority: 9 }),
        newJob({ queue: 'api', concurrency: { key: 'k', limit: 1 }, priority: 8 }),
        newJob({ queue: 'api' }),
        newJob({ queue: 'api' }),
      );
      assert.deepEqual(ids(await claimUpTo(store, 10, { queue: 'api' })), [k1, free]);
    });
  });
}
