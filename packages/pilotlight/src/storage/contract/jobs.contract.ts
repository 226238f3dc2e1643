import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { JobNotFoundError } from '../../errors.ts';
import type { StateName } from '../../types.ts';
import {
  ALL_STATES,
  at,
  awaiting,
  claim,
  compact,
  create,
  createOne,
  historyOf,
  moveTo,
  mustGet,
  newJob,
  scheduled,
  storeIt,
  type StoreFactory,
} from './fixtures.ts';

/** createJobs, getJob, getHistory, listJobs, countJobs. */
export function jobsContract(createStore: StoreFactory): void {
  describe('createJobs', () => {
    storeIt(createStore, 'returns one created result per job, in order, with distinct string ids', async (store) => {
      const results = await store.createJobs([newJob({ type: 'First' }), newJob({ type: 'Second' }), newJob({ type: 'Third' })]);
      assert.equal(results.length, 3);
      for (const result of results) {
        assert.equal(typeof result.id, 'string');
        assert.equal(result.created, true);
        assert.equal(result.parentState, undefined);
      }
      assert.equal(new Set(results.map((result) => result.id)).size, 3);
      const types = await Promise.all(results.map(async (result) => (await mustGet(store, result.id)).type));
      assert.deepEqual(types, ['First', 'Second', 'Third']);
    });

    storeIt(createStore, 'accepts an empty batch', async (store) => {
      assert.deepEqual(await store.createJobs([]), []);
      assert.deepEqual(await store.listJobs({}), []);
    });

    storeIt(createStore, 'stores every field of the new job', async (store) => {
      const id = await createOne(
        store,
        newJob({
          type: 'TenantService',
          method: 'provisionTenant',
          argsJson: '[{"tenant":"acme","seats":12}]',
          queue: 'provisioning',
          priority: 7,
          retry: { attempts: 3, backoff: [1000, 5000] },
          state: { name: 'Enqueued', reason: 'Created by the API', at: at(1) },
          runAt: at(1),
          dedupKey: 'tenant:acme',
          recurringId: 'hourly-provisioning',
          metadata: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
          concurrency: { key: 'tenant:acme', limit: 2 },
          rateLimit: { key: 'provider:stripe', max: 100, per: 60_000 },
          debounceKey: 'provision:acme',
          batchId: 'onboarding-7',
        }),
      );
      assert.deepEqual(await store.getJob(id), {
        id,
        type: 'TenantService',
        method: 'provisionTenant',
        argsJson: '[{"tenant":"acme","seats":12}]',
        queue: 'provisioning',
        priority: 7,
        state: 'Enqueued',
        stateReason: 'Created by the API',
        runAt: at(1),
        createdAt: at(1),
        stateChangedAt: at(1),
        attempt: 0,
        retryCount: 0,
        retry: { attempts: 3, backoff: [1000, 5000] },
        parentId: undefined,
        hasContinuations: false,
        dedupKey: 'tenant:acme',
        metadata: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        serverName: undefined,
        leaseUntil: undefined,
        progress: undefined,
        recurringId: 'hourly-provisioning',
        concurrency: { key: 'tenant:acme', limit: 2 },
        rateLimit: { key: 'provider:stripe', max: 100, per: 60_000 },
        debounceKey: 'provision:acme',
        batchId: 'onboarding-7',
        awaitsBatch: undefined,
        resultJson: undefined,
      });
    });

    storeIt(createStore, 'keeps empty retry options, an empty method and no metadata as given', async (store) => {
      const id = await createOne(store, newJob({ method: '', retry: {}, metadata: {} }));
      const job = await mustGet(store, id);
      assert.equal(job.method, '');
      assert.deepEqual(job.retry, {});
      assert.deepEqual(job.metadata, {});
      assert.equal(job.dedupKey, undefined);
      assert.equal(job.recurringId, undefined);
      for (const field of ['concurrency', 'rateLimit', 'debounceKey', 'batchId', 'awaitsBatch', 'resultJson'] as const) {
        assert.equal(job[field], undefined, `${field} of a job created without it`);
      }
    });

    storeIt(createStore, "keeps a job's own timeout in its retry options, a number or null (no timeout)", async (store) => {
      const [timed, untimed] = await create(store, newJob({ retry: { attempts: 2, timeout: 1500 } }), newJob({ retry: { timeout: null } }));
      assert.deepEqual((await mustGet(store, timed!)).retry, { attempts: 2, timeout: 1500 });
      assert.deepEqual((await mustGet(store, untimed!)).retry, { timeout: null });
    });

    storeIt(createStore, 'records the initial state in the history, with its reason and details', async (store) => {
      const [enqueued, delayed] = await create(
        store,
        newJob({ state: { name: 'Enqueued', reason: 'Enqueued by the API', at: at(2) } }),
        scheduled(at(60)),
      );
      const child = await createOne(store, awaiting(enqueued!));

      assert.deepEqual(await historyOf(store, enqueued!), [{ name: 'Enqueued', reason: 'Enqueued by the API', at: at(2) }]);
      assert.deepEqual(await historyOf(store, delayed!), [
        { name: 'Scheduled', reason: `Scheduled for ${at(60).toISOString()}`, runAt: at(60), at: at(0) },
      ]);
      assert.deepEqual(await historyOf(store, child), [{ name: 'Awaiting', reason: `Waiting for job ${enqueued}`, at: at(0) }]);

      const job = await mustGet(store, delayed!);
      assert.equal(job.state, 'Scheduled');
      assert.deepEqual(job.runAt, at(60));
    });

    storeIt(createStore, 'keeps metadata as created: later changes to the input, claims and transitions leave it alone', async (store) => {
      const metadata: Record<string, string> = { traceparent: '00-abc-def-01', tenant: 'acme' };
      const id = await createOne(store, newJob({ metadata }));
      metadata.tenant = 'changed after creation';
      metadata.extra = 'added after creation';

      const expected = { traceparent: '00-abc-def-01', tenant: 'acme' };
      assert.deepEqual((await mustGet(store, id)).metadata, expected);
      const [claimed] = await claim(store, 1);
      assert.deepEqual(claimed!.metadata, expected);
      const failed = await moveTo(store, id, 'Failed', {
        to: { name: 'Failed', reason: 'Boom', at: at(20), error: { type: 'Error', message: 'boom' } },
      });
      assert.deepEqual(failed.metadata, expected);
      assert.deepEqual((await mustGet(store, id)).metadata, expected);
    });
  });

  describe('createJobs with a dedupKey', () => {
    storeIt(createStore, 'does not create a second unfinished job with the same key: it names the holder', async (store) => {
      const holder = await createOne(store, newJob({ dedupKey: 'invoice:42', type: 'Holder' }));
      const [result] = await store.createJobs([newJob({ dedupKey: 'invoice:42', type: 'Duplicate', queue: 'other' })]);
      assert.deepEqual(compact(result!), { id: holder, created: false });

      const jobs = await store.listJobs({});
      assert.deepEqual(
        jobs.map((job) => [job.id, job.type]),
        [[holder, 'Holder']],
      );
      assert.equal((await store.getHistory(holder)).length, 1);
    });

    storeIt(createStore, 'deduplicates within one batch and does not block other keys or jobs without a key', async (store) => {
      const results = await store.createJobs([
        newJob({ dedupKey: 'a' }),
        newJob({ dedupKey: 'a' }),
        newJob({ dedupKey: 'b' }),
        newJob(),
        newJob(),
      ]);
      assert.deepEqual(
        results.map((result) => result.created),
        [true, false, true, true, true],
      );
      assert.equal(results[1]!.id, results[0]!.id);
      assert.equal(new Set(results.map((result) => result.id)).size, 4);
      assert.equal((await store.countJobs()).Enqueued, 4);
    });

    for (const unfinished of ['Scheduled', 'Awaiting', 'Processing'] as const) {
      storeIt(createStore, `keeps the key held while the holder is ${unfinished}`, async (store) => {
        const parent = await createOne(store, newJob({ queue: 'parents' }));
        const holder = await createOne(store, newJob({ dedupKey: 'k' }));
        if (unfinished === 'Processing') await claim(store, 1);
        else await moveTo(store, holder, unfinished);
        const [result] = await store.createJobs([
          unfinished === 'Awaiting' ? awaiting(parent, { dedupKey: 'k' }) : newJob({ dedupKey: 'k' }),
        ]);
        assert.equal(result!.created, false);
        assert.equal(result!.id, holder);
        assert.equal((await store.listJobs({ queue: 'default' })).length, 1);
      });
    }

    for (const finished of ['Succeeded', 'Failed', 'Deleted'] as const) {
      storeIt(createStore, `creates a new job once the holder is ${finished}, which then holds the key`, async (store) => {
        const first = await createOne(store, newJob({ dedupKey: 'report:2030-01' }));
        await moveTo(store, first, finished);

        const [second] = await store.createJobs([newJob({ dedupKey: 'report:2030-01' })]);
        assert.equal(second!.created, true);
        assert.notEqual(second!.id, first);
        assert.equal((await mustGet(store, second!.id)).dedupKey, 'report:2030-01');
        assert.equal((await mustGet(store, first)).state, finished);

        const [third] = await store.createJobs([newJob({ dedupKey: 'report:2030-01' })]);
        assert.deepEqual(compact(third!), { id: second!.id, created: false });
      });
    }
  });

  describe('createJobs with a parent (continuations)', () => {
    storeIt(createStore, 'marks the parent as having continuations and reports its state', async (store) => {
      const parent = await createOne(store);
      assert.equal((await mustGet(store, parent)).hasContinuations, false);

      const [result] = await store.createJobs([awaiting(parent)]);
      assert.equal(result!.created, true);
      assert.equal(result!.parentState, 'Enqueued');

      const child = await mustGet(store, result!.id);
      assert.equal(child.parentId, parent);
      assert.equal(child.state, 'Awaiting');
      assert.equal(child.hasContinuations, false);
      assert.equal((await mustGet(store, parent)).hasContinuations, true);
    });

    storeIt(createStore, 'does not mark the parent when the continuation is turned away by its dedup key', async (store) => {
      const [parent, other] = await create(store, newJob(), newJob());
      await createOne(store, awaiting(other!, { dedupKey: 'welcome' }));
      const [result] = await store.createJobs([awaiting(parent!, { dedupKey: 'welcome' })]);
      assert.equal(result!.created, false);
      assert.equal((await mustGet(store, parent!)).hasContinuations, false);
    });

    storeIt(createStore, "reports the parent's current state, also when it already finished", async (store) => {
      const [succeeded, failed, processing] = await create(store, newJob({ queue: 'a' }), newJob({ queue: 'b' }), newJob({ queue: 'c' }));
      await moveTo(store, succeeded!, 'Succeeded');
      await moveTo(store, failed!, 'Failed');
      await claim(store, 1, { queue: 'c' });

      const results = await store.createJobs([awaiting(succeeded!), awaiting(failed!), awaiting(processing!), awaiting(succeeded!)]);
      assert.deepEqual(
        results.map((result) => [result.created, result.parentState]),
        [
          [true, 'Succeeded'],
          [true, 'Failed'],
          [true, 'Processing'],
          [true, 'Succeeded'],
        ],
      );
      for (const parent of [succeeded!, failed!, processing!]) assert.equal((await mustGet(store, parent)).hasContinuations, true);
    });

    for (const unknown of ['no-such-job', '999999999']) {
      storeIt(createStore, `throws JobNotFoundError for an unknown parent (${unknown}) and writes nothing of the batch`, async (store) => {
        const parent = await createOne(store, newJob({ queue: 'parents' }));
        const batch = [newJob({ type: 'Valid' }), awaiting(parent, { type: 'ValidChild' }), awaiting(unknown, { type: 'Orphan' })];

        await assert.rejects(store.createJobs(batch), (error: unknown) => {
          assert.ok(error instanceof JobNotFoundError, `expected a JobNotFoundError, got ${String(error)}`);
          assert.equal(error.jobId, unknown);
          return true;
        });

        assert.deepEqual(
          (await store.listJobs({})).map((job) => job.id),
          [parent],
        );
        assert.equal((await mustGet(store, parent)).hasContinuations, false);
        assert.deepEqual(await store.listContinuations(parent), []);
      });
    }
  });

  describe('getJob and getHistory', () => {
    storeIt(createStore, 'find nothing for unknown ids', async (store) => {
      await createOne(store);
      for (const unknown of ['no-such-job', '999999999']) {
        assert.equal(await store.getJob(unknown), undefined);
        assert.deepEqual(await historyOf(store, unknown), []);
      }
    });

    storeIt(createStore, 'history lists every state change, oldest first', async (store) => {
      const id = await createOne(store, newJob({ state: { name: 'Enqueued', reason: 'Created', at: at(0) } }));
      await claim(store, 1, { now: at(10), serverName: 'worker-7' });
      await store.transition([
        {
          id,
          expect: { state: 'Processing' },
          to: {
            name: 'Scheduled',
            reason: 'Retry 1 of 3',
            at: at(20),
            runAt: at(80),
            retry: true,
            error: { type: 'TypeError', message: 'nope', stack: 'TypeError: nope\n    at send' },
          },
          runAt: at(80),
          retryCount: 1,
        },
      ]);
      await moveTo(store, id, 'Deleted', { to: { name: 'Deleted', reason: 'Deleted by user', at: at(30) } });

      assert.deepEqual(await historyOf(store, id), [
        { name: 'Enqueued', reason: 'Created', at: at(0) },
        { name: 'Processing', at: at(10), serverName: 'worker-7', attempt: 1 },
        {
          name: 'Scheduled',
          reason: 'Retry 1 of 3',
          at: at(20),
          runAt: at(80),
          retry: true,
          error: { type: 'TypeError', message: 'nope', stack: 'TypeError: nope\n    at send' },
        },
        { name: 'Deleted', reason: 'Deleted by user', at: at(30) },
      ]);
    });
  });

  describe('listJobs', () => {
    storeIt(createStore, 'lists newest first, with limit and offset', async (store) => {
      const created: string[] = [];
      for (let i = 0; i < 5; i++) created.push(await createOne(store, newJob({ type: `Job${i}` })));
      const newestFirst = [...created].reverse();

      assert.deepEqual(
        (await store.listJobs({})).map((job) => job.id),
        newestFirst,
      );
      assert.deepEqual(
        (await store.listJobs({ limit: 2 })).map((job) => job.id),
        newestFirst.slice(0, 2),
      );
      assert.deepEqual(
        (await store.listJobs({ limit: 2, offset: 2 })).map((job) => job.id),
        newestFirst.slice(2, 4),
      );
      assert.deepEqual(
        (await store.listJobs({ offset: 4 })).map((job) => job.id),
        newestFirst.slice(4),
      );
      assert.deepEqual(await store.listJobs({ offset: 5 }), []);
    });

    storeIt(createStore, 'returns at most 100 jobs by default', async (store) => {
      await create(store, ...Array.from({ length: 105 }, (_, i) => newJob({ argsJson: `[${i}]` })));
      assert.equal((await store.listJobs({})).length, 100);
      assert.equal((await store.listJobs({ limit: 105 })).length, 105);
    });

    storeIt(createStore, 'filters by state, queue and type, alone or together', async (store) => {
      const [a, b, c, d] = await create(
        store,
        newJob({ queue: 'mail', type: 'Mailer' }),
        newJob({ queue: 'mail', type: 'Digest' }),
        newJob({ queue: 'billing', type: 'Mailer' }),
        scheduled(at(99), { queue: 'mail', type: 'Mailer' }),
      );
      await moveTo(store, b!, 'Succeeded');

      const list = async (query: Parameters<typeof store.listJobs>[0]) => (await store.listJobs(query)).map((job) => job.id);
      assert.deepEqual(await list({ state: 'Enqueued' }), [c, a]);
      assert.deepEqual(await list({ state: 'Succeeded' }), [b]);
      assert.deepEqual(await list({ state: 'Failed' }), []);
      assert.deepEqual(await list({ queue: 'mail' }), [d, b, a]);
      assert.deepEqual(await list({ type: 'Mailer' }), [d, c, a]);
      assert.deepEqual(await list({ queue: 'mail', type: 'Mailer' }), [d, a]);
      assert.deepEqual(await list({ state: 'Enqueued', queue: 'mail', type: 'Mailer' }), [a]);
      assert.deepEqual(await list({ state: 'Scheduled', queue: 'billing' }), []);
      assert.deepEqual(await list({ state: 'Enqueued', limit: 1, offset: 1 }), [a]);
    });
  });

  describe('countJobs', () => {
    storeIt(createStore, 'reports all seven states, zero when empty', async (store) => {
      const counts = await store.countJobs();
      assert.deepEqual(Object.keys(counts).sort(), [...ALL_STATES].sort());
      for (const state of ALL_STATES) assert.equal(counts[state], 0, state);
    });

    storeIt(createStore, 'counts the jobs in each state', async (store) => {
      const wanted: Partial<Record<StateName, number>> = {
        Enqueued: 3,
        Scheduled: 2,
        Awaiting: 1,
        Processing: 2,
        Succeeded: 1,
        Failed: 1,
        Deleted: 1,
      };
      const parent = await createOne(store, newJob({ queue: 'parent' }));
      await create(store, scheduled(at(100)), scheduled(at(200)), awaiting(parent));
      await create(store, ...Array.from({ length: 7 }, () => newJob()));
      await claim(store, 2);
      const [s, f, d] = (await store.listJobs({ state: 'Enqueued', queue: 'default' })).map((job) => job.id);
      await moveTo(store, s!, 'Succeeded');
      await moveTo(store, f!, 'Failed');
      await moveTo(store, d!, 'Deleted');

      assert.deepEqual(await store.countJobs(), wanted);
    });
  });
}
