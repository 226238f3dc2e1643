import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { StoreEvent } from '../store.ts';
import {
  at,
  awaiting,
  claim,
  create,
  createOne,
  moveTo,
  mustGet,
  newJob,
  recordEvents,
  recurringJob,
  scheduled,
  settle,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

const isWake = (queue: string) => (event: StoreEvent) => event.type === 'wake' && (event.queue === undefined || event.queue === queue);
const isState = (jobId: string, to: string) => (event: StoreEvent) => event.type === 'state' && event.jobId === jobId && event.to === to;

/** subscribe: wake-ups and state changes. */
export function eventsContract(createStore: StoreFactory): void {
  describe('subscribe', () => {
    storeIt(createStore, 'wakes listeners when an Enqueued job is created', async (store) => {
      const { waitFor } = recordEvents(store);
      await createOne(store, newJob({ queue: 'mail' }));
      await waitFor('wake for queue mail', isWake('mail'));
    });

    storeIt(createStore, 'a listener that throws neither fails the write nor stops the other listeners', async (store) => {
      const warnings: string[] = [];
      const onWarning = (warning: Error) => void warnings.push(warning.message);
      process.on('warning', onWarning);
      try {
        const unsubscribe = store.subscribe(() => {
          throw new Error('listener bug');
        });
        const { waitFor } = recordEvents(store);
        const id = await createOne(store);
        await waitFor('wake after a throwing listener', isWake('default'));
        assert.equal((await mustGet(store, id)).state, 'Enqueued');
        unsubscribe();
      } finally {
        await settle();
        process.off('warning', onWarning);
      }
    });

    storeIt(createStore, 'reports every applied transition as a state event, and none for a refused one', async (store) => {
      const [refused, a, b] = await create(store, newJob(), newJob(), newJob());
      await claim(store, 1); // `refused` is now Processing
      const { events, waitFor } = recordEvents(store);

      await store.transition([
        { id: refused!, expect: { state: 'Enqueued' }, to: { name: 'Deleted', at: at(20) } },
        { id: a!, expect: { state: 'Enqueued' }, to: { name: 'Scheduled', at: at(20), runAt: at(60) }, runAt: at(60) },
      ]);
      await store.transition([{ id: b!, expect: { state: 'Enqueued' }, to: { name: 'Deleted', at: at(21) } }]);

      assert.deepEqual(await waitFor('state of a', isState(a!, 'Scheduled')), {
        type: 'state',
        jobId: a,
        from: 'Enqueued',
        to: 'Scheduled',
      });
      assert.deepEqual(await waitFor('state of b', isState(b!, 'Deleted')), { type: 'state', jobId: b, from: 'Enqueued', to: 'Deleted' });
      await settle();
      assert.deepEqual(
        events.filter((event) => event.type === 'state' && event.jobId === refused),
        [],
      );
      assert.equal((await mustGet(store, refused!)).state, 'Processing');
    });

    storeIt(createStore, 'wakes listeners when a transition makes a job Enqueued', async (store) => {
      const id = await createOne(store, scheduled(at(30), { queue: 'reports' }));
      const { waitFor } = recordEvents(store);
      await moveTo(store, id, 'Enqueued');
      await waitFor('wake for queue reports', isWake('reports'));
      await waitFor(
        'state Scheduled -> Enqueued',
        (event) => event.type === 'state' && event.jobId === id && event.from === 'Scheduled' && event.to === 'Enqueued',
      );
    });

    storeIt(createStore, 'wakes listeners when a continuation is released', async (store) => {
      const parent = await createOne(store, newJob({ queue: 'parents' }));
      const child = await createOne(store, awaiting(parent, { queue: 'children' }));
      const { waitFor } = recordEvents(store);
      await moveTo(store, child, 'Enqueued');
      await waitFor('wake for queue children', isWake('children'));
    });

    storeIt(createStore, 'wakes listeners when a recurring occurrence is fired', async (store) => {
      await store.upsertRecurring(recurringJob());
      const { waitFor } = recordEvents(store);
      await store.fireRecurring({
        id: 'nightly-report',
        expectNextRunAt: at(100),
        nextRunAt: at(200),
        firedAt: at(100),
        jobs: [newJob({ queue: 'reports', recurringId: 'nightly-report' })],
      });
      await waitFor('wake for queue reports', isWake('reports'));
    });

    storeIt(createStore, 'stops delivering to a listener once unsubscribed, and keeps delivering to the others', async (store) => {
      const id = await createOne(store);
      const gone = recordEvents(store);
      const staying = recordEvents(store);
      gone.unsubscribe();

      await moveTo(store, id, 'Succeeded');
      await createOne(store);
      await staying.waitFor('state of the job', isState(id, 'Succeeded'));
      await staying.waitFor('wake', isWake('default'));
      await settle();
      assert.deepEqual(gone.events, []);

      staying.unsubscribe();
      staying.unsubscribe(); // twice is harmless
      const seen = staying.events.length;
      await moveTo(store, id, 'Enqueued');
      await settle();
      assert.equal(staying.events.length, seen);
    });
  });

  describe('lifecycle', () => {
    storeIt(createStore, 'migrate() can run again and keeps the data', async (store) => {
      const id = await createOne(store);
      await store.upsertRecurring(recurringJob());
      await store.migrate();
      await store.migrate();
      assert.equal((await mustGet(store, id)).state, 'Enqueued');
      assert.ok(await store.getRecurring('nightly-report'));
    });

    storeIt(createStore, 'close() can be called more than once', async (store) => {
      await createOne(store);
      await store.close();
      await store.close();
      await Promise.all([store.close(), store.close()]);
    });
  });
}
