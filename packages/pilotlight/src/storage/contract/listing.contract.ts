import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ValidationError } from '../../errors.ts';
import type { JobRecord } from '../../types.ts';
import { TRANSIENT_WALK_ROWS } from '../job-queries.ts';
import type { ListJobsQuery, Store } from '../store.ts';
import { at, claim, create, ids, moveTo, newJob, scheduled, storeIt, type StoreFactory } from './fixtures.ts';

/** Every page of `query`, `size` jobs each, each starting `before` the last id of the previous one. */
async function pages(store: Store, query: ListJobsQuery, size: number): Promise<string[][]> {
  const found: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = await store.listJobs({ ...query, limit: size, ...(before === undefined ? {} : { before }) });
    assert.ok(page.length <= size, `a page holds at most ${size} jobs`);
    if (page.length > 0) found.push(ids(page));
    if (page.length < size) return found;
    before = page.at(-1)!.id;
  }
}

/** Every job, newest first, filtered here: what the pages of a filter must add up to. */
async function expected(store: Store, pick: (job: JobRecord) => boolean): Promise<string[]> {
  return ids((await store.listJobs({ limit: 10_000 })).filter(pick));
}

/** `count` jobs, in bulk: newer than the others, and neither Enqueued nor Processing. */
function restingJobs(count: number): ReturnType<typeof newJob>[] {
  return Array.from({ length: count }, (_, i) => scheduled(at(1000), { type: 'Filler', argsJson: `[${i}]` }));
}

/** listJobs with `before`: keyset pages, fast at any depth. */
export function listingContract(createStore: StoreFactory): void {
  describe('listJobs pages (before)', () => {
    storeIt(createStore, 'pages every job newest first: no overlap, no gap', async (store) => {
      const created = await create(store, ...Array.from({ length: 23 }, (_, i) => newJob({ argsJson: `[${i}]` })));
      const found = await pages(store, {}, 5);
      assert.deepEqual(
        found.map((page) => page.length),
        [5, 5, 5, 5, 3],
      );
      assert.deepEqual(found.flat(), [...created].reverse());
    });

    storeIt(createStore, 'pages within a state, a queue and a type, alone and together', async (store) => {
      const jobs = await create(
        store,
        ...Array.from({ length: 40 }, (_, i) =>
          newJob({ queue: ['mail', 'billing', 'reports'][i % 3]!, type: ['Mailer', 'Digest'][i % 2]!, argsJson: `[${i}]` }),
        ),
      );
      // Some of each state at rest, the others left Enqueued.
      for (const [i, id] of jobs.entries()) {
        if (i % 5 === 1) await moveTo(store, id, 'Succeeded');
        if (i % 5 === 2) await moveTo(store, id, 'Failed');
        if (i % 7 === 3) await moveTo(store, id, 'Scheduled');
      }
      const filters: ListJobsQuery[] = [
        { state: 'Succeeded' },
        { state: 'Failed' },
        { state: 'Scheduled' },
        { state: 'Enqueued' },
        { state: 'Succeeded', queue: 'mail' },
        { state: 'Failed', type: 'Digest' },
        { state: 'Enqueued', queue: 'billing' },
        { state: 'Enqueued', type: 'Mailer' },
        { state: 'Succeeded', queue: 'reports', type: 'Mailer' },
        { queue: 'mail' },
        { type: 'Digest' },
        { queue: 'billing', type: 'Mailer' },
        { state: 'Deleted' },
        { queue: 'nowhere' },
      ];
      for (const filter of filters) {
        const want = await expected(
          store,
          (job) =>
            (filter.state === undefined || job.state === filter.state) &&
            (filter.queue === undefined || job.queue === filter.queue) &&
            (filter.type === undefined || job.type === filter.type),
        );
        assert.deepEqual((await pages(store, filter, 3)).flat(), want, JSON.stringify(filter));
        assert.deepEqual(ids(await store.listJobs({ ...filter, limit: 10_000 })), want, JSON.stringify(filter));
      }
    });

    storeIt(
      createStore,
      `pages Enqueued and Processing jobs also when they are older than the newest ${TRANSIENT_WALK_ROWS}`,
      async (store) => {
        const stuck = await create(store, ...Array.from({ length: 7 }, () => newJob({ queue: 'stuck' })));
        const busy = await create(store, ...Array.from({ length: 3 }, () => newJob({ queue: 'busy', type: 'Busy' })));
        await claim(store, 3, { queue: 'busy' });
        await create(store, ...restingJobs(TRANSIENT_WALK_ROWS + 100));

        assert.deepEqual((await pages(store, { state: 'Enqueued' }, 3)).flat(), [...stuck].reverse());
        assert.deepEqual((await pages(store, { state: 'Enqueued', queue: 'stuck' }, 2)).flat(), [...stuck].reverse());
        assert.deepEqual((await pages(store, { state: 'Processing' }, 2)).flat(), [...busy].reverse());
        assert.deepEqual((await pages(store, { state: 'Processing', type: 'Busy', queue: 'busy' }, 5)).flat(), [...busy].reverse());
        assert.deepEqual(await store.listJobs({ state: 'Enqueued', queue: 'busy' }), []);

        // A backlog among the newest jobs is found there; the older ones follow.
        const fresh = await create(store, ...Array.from({ length: 12 }, () => newJob({ queue: 'fresh' })));
        assert.deepEqual((await pages(store, { state: 'Enqueued' }, 5)).flat(), [...stuck, ...fresh].reverse());
        assert.deepEqual(ids(await store.listJobs({ state: 'Enqueued', limit: 4, offset: 10 })), [fresh[1], fresh[0], stuck[6], stuck[5]]);
      },
    );

    storeIt(createStore, 'combines before with offset and limit, and goes on past a job deleted meanwhile', async (store) => {
      const created = await create(store, ...Array.from({ length: 10 }, (_, i) => newJob({ argsJson: `[${i}]` })));
      const newestFirst = [...created].reverse();
      assert.deepEqual(ids(await store.listJobs({ before: newestFirst[2]!, offset: 1, limit: 3 })), newestFirst.slice(4, 7));
      assert.deepEqual(ids(await store.listJobs({ before: newestFirst[9]! })), []);

      await moveTo(store, newestFirst[4]!, 'Succeeded', { expiresAt: at(60) });
      assert.equal(await store.deleteExpiredJobs(at(60), 10), 1);
      assert.deepEqual(ids(await store.listJobs({ before: newestFirst[4]!, limit: 2 })), newestFirst.slice(5, 7));
      assert.deepEqual(ids(await store.listJobs({ state: 'Enqueued', before: newestFirst[4]!, limit: 2 })), newestFirst.slice(5, 7));
    });

    storeIt(createStore, 'refuses a before that is no job id of the store with a ValidationError naming it', async (store) => {
      await create(store, newJob());
      for (const before of ['not-an-id', '-1', '1.5']) {
        for (const query of [{ before }, { before, state: 'Failed' as const }, { before, state: 'Enqueued' as const }]) {
          await assert.rejects(store.listJobs(query), (error: unknown) => {
            assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
            assert.match(error.message, /^listJobs\(\) before must be the id of a job/);
            return true;
          });
        }
      }
    });
  });
}
