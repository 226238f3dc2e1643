import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { NewJob } from '../store.ts';
import { at, historyOf, mustGet, newJob, recurringJob, sorted, storeIt, type StoreFactory } from './fixtures.ts';

/** A job for one occurrence of recurring job `id`, as the engine builds it. */
function occurrence(id: string, when: Date): NewJob {
  const { type, method, argsJson, queue, priority, retry } = recurringJob();
  return newJob({
    type,
    method,
    argsJson,
    queue,
    priority,
    retry,
    recurringId: id,
    state: { name: 'Enqueued', reason: `Occurrence ${when.toISOString()} of recurring job '${id}'`, at: when },
  });
}

/** upsertRecurring, getRecurring, listRecurring, removeRecurring, listDueRecurring, fireRecurring. */
export function recurringContract(createStore: StoreFactory): void {
  describe('recurring jobs', () => {
    storeIt(createStore, 'upsertRecurring stores every field; getRecurring reads it back', async (store) => {
      const before = Date.now();
      await store.upsertRecurring(recurringJob());
      const stored = await store.getRecurring('nightly-report');
      assert.ok(stored);
      const { createdAt, ...rest } = stored;
      assert.deepEqual(rest, {
        id: 'nightly-report',
        cron: '0 3 * * *',
        timeZone: 'Europe/Paris',
        misfire: 'run-once',
        type: 'Reports',
        method: 'nightly',
        argsJson: '["eu-west",42]',
        queue: 'reports',
        priority: 3,
        retry: { attempts: 2, backoff: 5000 },
        nextRunAt: at(100),
        lastRunAt: undefined,
        lastJobId: undefined,
      });
      assert.ok(createdAt instanceof Date);
      assert.ok(
        createdAt.getTime() >= before - 60_000 && createdAt.getTime() <= Date.now() + 60_000,
        `createdAt ${createdAt.toISOString()} should be about now`,
      );
    });

    storeIt(
      createStore,
      'upsertRecurring replaces the definition of an existing id, keeping when it was created and last fired',
      async (store) => {
        await store.upsertRecurring(recurringJob());
        const fired = await store.fireRecurring({
          id: 'nightly-report',
          expectNextRunAt: at(100),
          nextRunAt: at(200),
          firedAt: at(101),
          jobs: [occurrence('nightly-report', at(101))],
        });
        const original = await store.getRecurring('nightly-report');

        await store.upsertRecurring(
          recurringJob({
            cron: '*/5 * * * *',
            timeZone: 'UTC',
            misfire: 'skip',
            type: 'Reports2',
            method: '',
            argsJson: '[]',
            queue: 'q2',
            priority: -1,
            retry: {},
            nextRunAt: at(300),
          }),
        );
        assert.deepEqual(await store.getRecurring('nightly-report'), {
          id: 'nightly-report',
          cron: '*/5 * * * *',
          timeZone: 'UTC',
          misfire: 'skip',
          type: 'Reports2',
          method: '',
          argsJson: '[]',
          queue: 'q2',
          priority: -1,
          retry: {},
          nextRunAt: at(300),
          lastRunAt: at(101),
          lastJobId: fired![0]!.id,
          createdAt: original!.createdAt,
        });
        assert.equal((await store.listRecurring()).length, 1);
      },
    );

    storeIt(createStore, 'listRecurring lists all; removeRecurring removes one and tells whether it existed', async (store) => {
      await store.upsertRecurring(recurringJob({ id: 'b-hourly', cron: '0 * * * *' }));
      await store.upsertRecurring(recurringJob({ id: 'a-daily' }));
      await store.upsertRecurring(recurringJob({ id: 'c-weekly', cron: '0 0 * * 1' }));
      assert.deepEqual(sorted((await store.listRecurring()).map((r) => r.id)), ['a-daily', 'b-hourly', 'c-weekly']);
      assert.equal((await store.listRecurring()).find((r) => r.id === 'b-hourly')?.cron, '0 * * * *');

      assert.equal(await store.removeRecurring('b-hourly'), true);
      assert.equal(await store.removeRecurring('b-hourly'), false);
      assert.equal(await store.removeRecurring('never-existed'), false);
      assert.equal(await store.getRecurring('b-hourly'), undefined);
      assert.equal(await store.getRecurring('never-existed'), undefined);
      assert.deepEqual(sorted((await store.listRecurring()).map((r) => r.id)), ['a-daily', 'c-weekly']);
    });

    storeIt(createStore, 'removing a recurring job keeps the jobs it created', async (store) => {
      await store.upsertRecurring(recurringJob());
      const fired = await store.fireRecurring({
        id: 'nightly-report',
        expectNextRunAt: at(100),
        nextRunAt: at(200),
        firedAt: at(100),
        jobs: [occurrence('nightly-report', at(100))],
      });
      assert.equal(await store.removeRecurring('nightly-report'), true);
      assert.equal((await mustGet(store, fired![0]!.id)).recurringId, 'nightly-report');
    });

    storeIt(createStore, 'listDueRecurring lists recurring jobs whose nextRunAt has come, up to the limit', async (store) => {
      await store.upsertRecurring(recurringJob({ id: 'past', nextRunAt: at(10) }));
      await store.upsertRecurring(recurringJob({ id: 'now', nextRunAt: at(20) }));
      await store.upsertRecurring(recurringJob({ id: 'future', nextRunAt: at(21) }));

      assert.deepEqual(await store.listDueRecurring(at(9), 10), []);
      const due = await store.listDueRecurring(at(20), 10);
      assert.deepEqual(sorted(due.map((r) => r.id)), ['now', 'past']);
      assert.deepEqual(due.find((r) => r.id === 'past')?.nextRunAt, at(10));
      assert.equal((await store.listDueRecurring(at(20), 1)).length, 1);
      assert.equal((await store.listDueRecurring(at(1000), 10)).length, 3);
    });
  });

  describe('fireRecurring', () => {
    storeIt(createStore, 'moves nextRunAt, inserts the jobs with their recurringId and records the last run', async (store) => {
      await store.upsertRecurring(recurringJob());
      const results = await store.fireRecurring({
        id: 'nightly-report',
        expectNextRunAt: at(100),
        nextRunAt: at(200),
        firedAt: at(102),
        jobs: [occurrence('nightly-report', at(100)), occurrence('nightly-report', at(101))],
      });
      assert.ok(results);
      assert.deepEqual(
        results.map((result) => result.created),
        [true, true],
      );
      for (const [i, result] of results.entries()) {
        const job = await mustGet(store, result.id);
        assert.equal(job.recurringId, 'nightly-report');
        assert.equal(job.state, 'Enqueued');
        assert.equal(job.queue, 'reports');
        assert.deepEqual(await historyOf(store, result.id), [
          { name: 'Enqueued', reason: `Occurrence ${at(100 + i).toISOString()} of recurring job 'nightly-report'`, at: at(100 + i) },
        ]);
      }
      const recurring = await store.getRecurring('nightly-report');
      assert.deepEqual(recurring?.nextRunAt, at(200));
      assert.deepEqual(recurring?.lastRunAt, at(102));
      assert.equal(recurring?.lastJobId, results[1]!.id);
      assert.deepEqual(await store.listDueRecurring(at(150), 10), []);
    });

    storeIt(
      createStore,
      'fires an occurrence once: a second fire with the same expectNextRunAt returns undefined and inserts nothing',
      async (store) => {
        await store.upsertRecurring(recurringJob());
        const fire = {
          id: 'nightly-report',
          expectNextRunAt: at(100),
          nextRunAt: at(200),
          firedAt: at(100),
          jobs: [occurrence('nightly-report', at(100))],
        };
        const first = await store.fireRecurring(fire);
        assert.equal(first?.length, 1);
        const afterFirst = await store.getRecurring('nightly-report');

        assert.equal(await store.fireRecurring({ ...fire, nextRunAt: at(300), firedAt: at(105) }), undefined);
        assert.equal((await store.listJobs({})).length, 1);
        assert.deepEqual(await store.getRecurring('nightly-report'), afterFirst);

        const next = await store.fireRecurring({
          ...fire,
          expectNextRunAt: at(200),
          nextRunAt: at(300),
          firedAt: at(200),
          jobs: [occurrence('nightly-report', at(200))],
        });
        assert.equal(next?.length, 1);
        assert.equal((await store.getRecurring('nightly-report'))?.lastJobId, next![0]!.id);
        assert.equal((await store.listJobs({})).length, 2);
      },
    );

    storeIt(createStore, 'lets exactly one of several concurrent fires of one occurrence win', async (store) => {
      await store.upsertRecurring(recurringJob());
      const outcomes = await Promise.all(
        [1, 2, 3].map((n) =>
          store.fireRecurring({
            id: 'nightly-report',
            expectNextRunAt: at(100),
            nextRunAt: at(200),
            firedAt: at(100 + n),
            jobs: [occurrence('nightly-report', at(100))],
          }),
        ),
      );
      const winners = outcomes.filter((outcome) => outcome !== undefined);
      assert.equal(winners.length, 1);
      const jobs = await store.listJobs({});
      assert.equal(jobs.length, 1);
      assert.equal((await store.getRecurring('nightly-report'))?.lastJobId, jobs[0]!.id);
    });

    storeIt(createStore, 'with no jobs (skipped occurrences) only moves the schedule', async (store) => {
      await store.upsertRecurring(recurringJob());
      assert.deepEqual(
        await store.fireRecurring({ id: 'nightly-report', expectNextRunAt: at(100), nextRunAt: at(200), firedAt: at(150), jobs: [] }),
        [],
      );
      const recurring = await store.getRecurring('nightly-report');
      assert.deepEqual(recurring?.nextRunAt, at(200));
      assert.equal(recurring?.lastJobId, undefined);
      assert.deepEqual(await store.listJobs({}), []);
    });

    storeIt(createStore, 'returns undefined for an unknown recurring job and inserts nothing', async (store) => {
      const fired = await store.fireRecurring({
        id: 'never-existed',
        expectNextRunAt: at(100),
        nextRunAt: at(200),
        firedAt: at(100),
        jobs: [occurrence('never-existed', at(100))],
      });
      assert.equal(fired, undefined);
      assert.deepEqual(await store.listJobs({}), []);
      assert.equal(await store.getRecurring('never-existed'), undefined);
    });
  });
}
