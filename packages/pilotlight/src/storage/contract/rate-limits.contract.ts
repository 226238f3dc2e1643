import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { JobRecord } from '../../types.ts';
import type { NewJob, Store, StoreEvent } from '../store.ts';
import {
  claimUpTo,
  create,
  createOne,
  finished,
  ids,
  mustGet,
  newJob,
  recordEvents,
  settle,
  storeIt,
  type ClaimOptions,
  type StoreFactory,
} from './fixtures.ts';

/**
 * Rate-limit windows run on real time (the store arms a real timer for a window's end), so these
 * tests claim at the current time. Windows that must stay open while a test asserts are a minute
 * long; those a test waits out are a few hundred ms.
 */
const MINUTE = 60_000;
const SHORT = 300;

function claimNow(store: Store, limit: number, options: ClaimOptions = {}): Promise<JobRecord[]> {
  const now = new Date();
  return claimUpTo(store, limit, { now, leaseUntil: new Date(now.getTime() + MINUTE), ...options });
}

function limited(key: string, max: number, per: number, overrides: Parameters<typeof newJob>[0] = {}) {
  return newJob({ ...overrides, rateLimit: { key, max, per } });
}

/**
 * Creates `jobs` in `queue`, waits for the wake-ups of their creation (delivered asynchronously by
 * some stores) to pass, then records when each later wake for the queue arrives.
 */
async function createAndRecordLaterWakes(store: Store, queue: string, jobs: NewJob[]): Promise<{ created: string[]; wakes: number[] }> {
  const wakes: number[] = [];
  store.subscribe((event: StoreEvent) => {
    if (event.type === 'wake' && (event.queue === queue || event.queue === undefined)) wakes.push(Date.now());
  });
  const created = await create(store, ...jobs);
  const deadline = Date.now() + 2_000;
  while (wakes.length === 0) {
    if (Date.now() > deadline) assert.fail(`No wake for queue ${queue} within 2000 ms of creating its jobs`);
    await settle(5);
  }
  await settle(100);
  wakes.length = 0;
  return { created, wakes };
}

async function waitForWakeAfter(wakes: number[], after: number, what: string, timeout = SHORT + 5_000): Promise<void> {
  const deadline = Date.now() + timeout;
  // A timer may fire up to a millisecond early; a few more cover the clock of a database server on this host.
  while (!wakes.some((time) => time >= after - 10)) {
    if (Date.now() > deadline)
      assert.fail(`No ${what} within ${timeout} ms (wakes at ${JSON.stringify(wakes.map((time) => time - after))} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A job's `rateLimit` ({ key, max, per }) and a queue's `rateLimit`, enforced by claims, with the wake when a window closes. */
export function rateLimitsContract(createStore: StoreFactory): void {
  describe('job rate limits', () => {
    storeIt(createStore, "stores a job's rate limit", async (store) => {
      const id = await createOne(store, limited('stripe', 100, 1_000));
      assert.deepEqual((await mustGet(store, id)).rateLimit, { key: 'stripe', max: 100, per: 1_000 });
    });

    storeIt(createStore, 'at most max jobs of a key start in a window, counting those this same claim starts', async (store) => {
      const jobs = await create(store, ...Array.from({ length: 5 }, () => limited('stripe', 2, MINUTE)));
      assert.deepEqual(ids(await claimNow(store, 10)), jobs.slice(0, 2));
      assert.deepEqual(await claimNow(store, 10, { serverName: 'worker-2' }), [], 'the window is full');
    });

    storeIt(createStore, 'a start counts for its whole window: jobs finishing free nothing until it closes', async (store) => {
      await create(store, ...Array.from({ length: 4 }, () => limited('stripe', 2, MINUTE)));
      const started = await claimNow(store, 10);
      assert.equal(started.length, 2);
      await store.transition(started.map((job) => finished(job, { name: 'Succeeded', at: new Date() })));
      assert.deepEqual(await claimNow(store, 10), []);
    });

    storeIt(createStore, 'rate-limited jobs are passed over: the jobs behind them are claimed in their place', async (store) => {
      await create(store, ...Array.from({ length: 100 }, () => limited('stripe', 1, MINUTE, { priority: 9 })));
      const free = await create(store, newJob(), limited('other', 5, MINUTE), newJob());
      const claimed = await claimNow(store, 4);
      assert.equal(claimed.length, 4);
      assert.deepEqual(ids(claimed.slice(1)), free);
      assert.equal(claimed[0]!.rateLimit?.key, 'stripe');
    });

    storeIt(createStore, 'a key counts its starts in every queue, and keys are independent', async (store) => {
      const [mail1, , sms1, , other] = await create(
        store,
        limited('tenant', 1, MINUTE, { queue: 'mail' }),
        limited('tenant', 1, MINUTE, { queue: 'mail' }),
        limited('tenant', 2, MINUTE, { queue: 'sms' }),
        limited('tenant', 2, MINUTE, { queue: 'sms' }),
        limited('else', 1, MINUTE, { queue: 'sms' }),
      );
      assert.deepEqual(ids(await claimNow(store, 10, { queue: 'mail' })), [mail1]);
      // One start of the key in this window: the jobs of max 2 allow one more.
      assert.deepEqual(ids(await claimNow(store, 10, { queue: 'sms' })), [sms1, other]);
      assert.deepEqual(await claimNow(store, 10, { queues: ['mail', 'sms'] }), []);
    });

    storeIt(createStore, 'transitionAndClaim obeys rate limits: finishing a job of a full window frees nothing', async (store) => {
      const [first, second] = await create(store, limited('stripe', 1, MINUTE), limited('stripe', 1, MINUTE, { priority: 5 }));
      const [running] = await claimNow(store, 1);
      assert.equal(running!.id, second);
      const now = new Date();
      const { transitioned, claimed } = await store.transitionAndClaim([finished(running!, { name: 'Succeeded', at: now })], {
        queues: ['default'],
        limit: 5,
        serverName: 'worker-1',
        now,
        leaseUntil: new Date(now.getTime() + MINUTE),
      });
      assert.equal(transitioned[0]?.state, 'Succeeded');
      assert.deepEqual(claimed, []);
      assert.equal((await mustGet(store, first!)).state, 'Enqueued');
    });

    storeIt(createStore, 'concurrent claims never start more jobs of a key than max in a window', async (store) => {
      await create(store, ...Array.from({ length: 30 }, () => limited('stripe', 3, MINUTE)));
      const batches = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((serverName) => claimNow(store, 3, { serverName })));
      assert.ok(batches.flat().length <= 3, `${batches.flat().length} jobs started`);
      await claimNow(store, 10, { serverName: 'w7' });
      assert.equal((await store.countJobs()).Processing, 3);
    });

    storeIt(
      createStore,
      'the window closes per ms after its first start: the store wakes the queue then, and the next window starts max more',
      async (store) => {
        const { created: jobs, wakes } = await createAndRecordLaterWakes(
          store,
          'rl',
          Array.from({ length: 5 }, () => limited('stripe', 2, SHORT, { queue: 'rl' })),
        );
        const windowStart = Date.now();
        assert.deepEqual(ids(await claimNow(store, 10, { queue: 'rl' })), jobs.slice(0, 2));
        await waitForWakeAfter(wakes, windowStart + SHORT, 'wake for queue rl when the window closed');
        assert.deepEqual(ids(await claimNow(store, 10, { queue: 'rl' })), jobs.slice(2, 4));
      },
    );

    storeIt(createStore, 'close() clears the timer of a window: no wake comes after it', async (store) => {
      const { wakes } = await createAndRecordLaterWakes(store, 'rl', [
        limited('stripe', 1, SHORT, { queue: 'rl' }),
        limited('stripe', 1, SHORT, { queue: 'rl' }),
      ]);
      assert.equal((await claimNow(store, 10, { queue: 'rl' })).length, 1);
      await store.close();
      const closedAt = Date.now();
      await settle(SHORT + 300);
      assert.deepEqual(
        wakes.filter((time) => time >= closedAt),
        [],
      );
    });
  });

  describe('queue rate limits', () => {
    storeIt(
      createStore,
      "at most max of the queue's jobs start in a window; the claim's other queues are claimed as usual",
      async (store) => {
        await store.setQueueSettings('api', { rateLimit: { max: 2, per: MINUTE } });
        const api = await create(store, ...Array.from({ length: 20 }, () => newJob({ queue: 'api', priority: 9 })));
        const mail = await create(store, newJob({ queue: 'mail' }), newJob({ queue: 'mail' }));
        assert.deepEqual(ids(await claimNow(store, 4, { queues: ['api', 'mail'] })), [...api.slice(0, 2), ...mail]);
        assert.deepEqual(await claimNow(store, 4, { queues: ['api', 'mail'] }), []);
      },
    );

    storeIt(
      createStore,
      "a queue's limit and a job key of the same name are distinct: neither counts the other's starts",
      async (store) => {
        await store.setQueueSettings('api', { rateLimit: { max: 1, per: MINUTE } });
        const [queued, keyed] = await create(store, newJob({ queue: 'api' }), limited('api', 1, MINUTE, { queue: 'other' }));
        assert.deepEqual(ids(await claimNow(store, 5, { queue: 'api' })), [queued]);
        assert.deepEqual(ids(await claimNow(store, 5, { queue: 'other' })), [keyed]);
      },
    );

    storeIt(createStore, "a job's own rate limit and its queue's both apply", async (store) => {
      await store.setQueueSettings('api', { rateLimit: { max: 2, per: MINUTE } });
      const [keyed, , free] = await create(
        store,
        limited('stripe', 1, MINUTE, { queue: 'api', priority: 9 }),
        limited('stripe', 1, MINUTE, { queue: 'api', priority: 8 }),
        newJob({ queue: 'api' }),
        newJob({ queue: 'api' }),
      );
      assert.deepEqual(ids(await claimNow(store, 10, { queue: 'api' })), [keyed, free]);
    });

    storeIt(createStore, 'the window of a queue closes per ms after its first start, and the store wakes the queue then', async (store) => {
      await store.setQueueSettings('rl', { rateLimit: { max: 1, per: SHORT } });
      const { created: jobs, wakes } = await createAndRecordLaterWakes(store, 'rl', [
        newJob({ queue: 'rl' }),
        newJob({ queue: 'rl' }),
        newJob({ queue: 'rl' }),
      ]);
      const windowStart = Date.now();
      assert.deepEqual(ids(await claimNow(store, 10, { queue: 'rl' })), jobs.slice(0, 1));
      await waitForWakeAfter(wakes, windowStart + SHORT, 'wake for queue rl when its window closed');
      assert.deepEqual(ids(await claimNow(store, 10, { queue: 'rl' })), jobs.slice(1, 2));
    });

    storeIt(createStore, "clearing a queue's rate limit wakes its workers and lets its jobs start", async (store) => {
      await store.setQueueSettings('api', { rateLimit: { max: 1, per: MINUTE } });
      await create(store, newJob({ queue: 'api' }), newJob({ queue: 'api' }));
      assert.equal((await claimNow(store, 5, { queue: 'api' })).length, 1);
      const { waitFor } = recordEvents(store);
      await store.setQueueSettings('api', { rateLimit: null });
      await waitFor('wake for queue api', (event) => event.type === 'wake' && event.queue === 'api');
      assert.equal((await claimNow(store, 5, { queue: 'api' })).length, 1);
    });
  });
}
