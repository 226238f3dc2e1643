import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ValidationError } from '../../errors.ts';
import { TRANSIENT_WALK_ROWS } from '../job-queries.ts';
import type { SearchJobsQuery, Store } from '../store.ts';
import { at, create, ids, moveTo, newJob, scheduled, storeIt, type StoreFactory } from './fixtures.ts';

/** Every page of a search, continuing from each page's `next`: the matches of each, and the `next`s. */
async function searchAll(store: Store, query: SearchJobsQuery): Promise<{ matches: string[][]; nexts: (string | undefined)[] }> {
  const matches: string[][] = [];
  const nexts: (string | undefined)[] = [];
  let before = query.before;
  for (let page = 0; page < 1_000; page++) {
    const found = await store.searchJobs({ ...query, ...(before === undefined ? {} : { before }) });
    matches.push(ids(found.jobs));
    nexts.push(found.next);
    if (found.next === undefined) return { matches, nexts };
    before = found.next;
  }
  assert.fail('the search never ended');
}

/** searchJobs: a bounded substring scan, newest first, continued from `next`. */
export function searchContract(createStore: StoreFactory): void {
  describe('searchJobs', () => {
    storeIt(createStore, 'finds a substring of the id, the type or the arguments, case-sensitively, newest first', async (store) => {
      const [ada, grace, digest, upper] = await create(
        store,
        newJob({ argsJson: '["ada@example.com",{"subject":"Hello"}]' }),
        newJob({ argsJson: '["grace@example.com",{"subject":"Invoice 42"}]' }),
        newJob({ type: 'WeeklyDigest', argsJson: '[]' }),
        newJob({ argsJson: '["ADA@EXAMPLE.COM"]' }),
      );
      const search = async (text: string) => ids((await store.searchJobs({ text })).jobs);
      assert.deepEqual(await search('example.com'), [grace, ada]);
      assert.deepEqual(await search('ADA@'), [upper]);
      assert.deepEqual(await search('Digest'), [digest]);
      assert.deepEqual(await search('Mailer'), [upper, grace, ada]);
      assert.deepEqual(await search('"subject":"Invoice'), [grace]);
      assert.deepEqual(await search(digest!), [digest]);
      assert.deepEqual(await search('nowhere to be found'), []);

      const [found] = (await store.searchJobs({ text: 'grace' })).jobs;
      assert.deepEqual(found, await store.getJob(grace!));
    });

    storeIt(createStore, 'takes % and _ (and backslashes) literally: no wildcards', async (store) => {
      const [percent, underscore, plain, backslash] = await create(
        store,
        newJob({ argsJson: '["50% off"]' }),
        newJob({ argsJson: '["user_id"]' }),
        newJob({ argsJson: '["userXid", "50 off"]' }),
        newJob({ argsJson: '["C:\\\\temp"]' }),
      );
      const search = async (text: string) => ids((await store.searchJobs({ text })).jobs);
      assert.deepEqual(await search('%'), [percent]);
      assert.deepEqual(await search('50%'), [percent]);
      assert.deepEqual(await search('user_id'), [underscore]);
      assert.deepEqual(await search('_'), [underscore]);
      assert.deepEqual(await search('user%id'), []);
      assert.deepEqual(await search('\\\\'), [backslash]);
      assert.ok(plain);
    });

    storeIt(createStore, 'examines at most scanLimit jobs; next continues right after the last one examined', async (store) => {
      const created = await create(
        store,
        ...Array.from({ length: 30 }, (_, i) => newJob({ argsJson: i % 4 === 0 ? `["needle ${i}"]` : `["hay ${i}"]` })),
      );
      const newestFirst = [...created].reverse();
      const first = await store.searchJobs({ text: 'needle', scanLimit: 7 });
      // The 7 newest are jobs 29..23: of those, 28 and 24 match.
      assert.deepEqual(ids(first.jobs), [created[28], created[24]]);
      assert.equal(first.next, newestFirst[6]);

      const { matches, nexts } = await searchAll(store, { text: 'needle', scanLimit: 7 });
      assert.deepEqual(
        matches.flat(),
        newestFirst.filter((_, i) => (29 - i) % 4 === 0),
      );
      assert.deepEqual(nexts, [newestFirst[6], newestFirst[13], newestFirst[20], newestFirst[27], undefined]);
    });

    storeIt(createStore, 'stops at limit matches: next is the last match, and the next page starts after it', async (store) => {
      const created = await create(store, ...Array.from({ length: 12 }, (_, i) => newJob({ argsJson: `["needle ${i}"]` })));
      const newestFirst = [...created].reverse();
      const page = await store.searchJobs({ text: 'needle', limit: 5 });
      assert.deepEqual(ids(page.jobs), newestFirst.slice(0, 5));
      assert.equal(page.next, newestFirst[4]);
      const { matches, nexts } = await searchAll(store, { text: 'needle', limit: 5 });
      assert.deepEqual(matches, [newestFirst.slice(0, 5), newestFirst.slice(5, 10), newestFirst.slice(10)]);
      assert.deepEqual(nexts, [newestFirst[4], newestFirst[9], undefined]);
      // The last job examined is the oldest: nothing is left, whatever stopped the scan.
      assert.equal((await store.searchJobs({ text: 'needle', limit: 12 })).next, undefined);
      assert.equal((await store.searchJobs({ text: 'needle', scanLimit: 12 })).next, undefined);
      assert.equal((await store.searchJobs({ text: 'needle', before: newestFirst[11]! })).next, undefined);
    });

    storeIt(createStore, 'scans only the jobs the other filters select, and counts only those', async (store) => {
      const jobs = await create(
        store,
        ...Array.from({ length: 20 }, (_, i) =>
          newJob({ queue: i % 2 === 0 ? 'even' : 'odd', type: i < 10 ? 'Old' : 'New', argsJson: `["needle ${i}"]` }),
        ),
      );
      for (const id of jobs.slice(0, 6)) await moveTo(store, id, 'Failed');
      const search = async (query: Omit<SearchJobsQuery, 'text'>) => await store.searchJobs({ text: 'needle', ...query });

      const even = await search({ queue: 'even', scanLimit: 3 });
      assert.deepEqual(ids(even.jobs), [jobs[18], jobs[16], jobs[14]]);
      assert.equal(even.next, jobs[14]);
      assert.deepEqual(ids((await search({ state: 'Failed' })).jobs), jobs.slice(0, 6).reverse());
      assert.deepEqual(ids((await search({ state: 'Failed', queue: 'odd', scanLimit: 2 })).jobs), [jobs[5], jobs[3]]);
      assert.deepEqual(ids((await search({ state: 'Enqueued', type: 'Old' })).jobs), [jobs[9], jobs[8], jobs[7], jobs[6]]);
      assert.deepEqual(ids((await search({ type: 'New', scanLimit: 4 })).jobs), [jobs[19], jobs[18], jobs[17], jobs[16]]);
    });

    storeIt(createStore, `searches Enqueued jobs also when they are older than the newest ${TRANSIENT_WALK_ROWS}`, async (store) => {
      const stuck = await create(store, ...Array.from({ length: 4 }, (_, i) => newJob({ argsJson: `["needle ${i}"]` })));
      await create(
        store,
        ...Array.from({ length: TRANSIENT_WALK_ROWS + 100 }, (_, i) => scheduled(at(1000), { argsJson: `["needle in the hay ${i}"]` })),
      );
      const found = await store.searchJobs({ text: 'needle', state: 'Enqueued', limit: 3 });
      assert.deepEqual(ids(found.jobs), [stuck[3], stuck[2], stuck[1]]);
      assert.equal(found.next, stuck[1]);
      assert.deepEqual(await store.searchJobs({ text: 'needle', state: 'Enqueued', before: stuck[1]! }), {
        jobs: [await store.getJob(stuck[0]!)],
        next: undefined,
      });
      assert.deepEqual(await store.searchJobs({ text: 'needle', state: 'Processing' }), { jobs: [], next: undefined });
    });

    storeIt(createStore, 'refuses bad input with a ValidationError naming the option', async (store) => {
      const cases: [unknown, RegExp][] = [
        [{ text: '' }, /^searchJobs\(\) text must be a non-empty string/],
        [{}, /^searchJobs\(\) text must be a non-empty string/],
        [{ text: 'x', limit: 0 }, /^searchJobs\(\) limit must be an integer between 1 and 1000; received 0/],
        [{ text: 'x', limit: 1001 }, /^searchJobs\(\) limit must be an integer/],
        [{ text: 'x', scanLimit: 0 }, /^searchJobs\(\) scanLimit must be an integer between 1 and 100000; received 0/],
        [{ text: 'x', scanLimit: 2.5 }, /^searchJobs\(\) scanLimit must be an integer/],
        [{ text: 'x', state: 'Bogus' }, /^searchJobs\(\) state must be one of Enqueued, .*; received "Bogus"/],
        [{ text: 'x', queue: '' }, /^searchJobs\(\) queue must be a non-empty string/],
        [{ text: 'x', before: 'not-an-id' }, /^searchJobs\(\) before must be the id of a job/],
        [null, /^searchJobs\(\) query must be an object/],
      ];
      for (const [query, message] of cases) {
        await assert.rejects((async () => store.searchJobs(query as SearchJobsQuery))(), (error: unknown) => {
          assert.ok(error instanceof ValidationError, `expected a ValidationError for ${JSON.stringify(query)}, got ${String(error)}`);
          assert.match(error.message, message);
          return true;
        });
      }
    });
  });
}
