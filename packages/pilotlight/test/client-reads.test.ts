import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, ValidationError, type StateName } from '../src/index.ts';
import { tempStore, testClient, testWorker, waitFor } from './support/helpers.ts';

/** Asserts that `run` rejects with a ValidationError whose message matches. */
async function rejects(run: () => Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('client read queries (what a dashboard asks)', () => {
  it('reject bad input with a ValidationError naming the call and the option', async () => {
    const client = testClient(tempStore());
    await rejects(() => client.listJobs({ limit: 0 }), /^listJobs\(\) limit must be an integer between 1 and 10000; received 0$/);
    await rejects(() => client.listJobs({ offset: -1 }), /^listJobs\(\) offset must be an integer >= 0; received -1$/);
    await rejects(
      () => client.listJobs({ state: 'Done' as StateName }),
      /^listJobs\(\) state must be one of Enqueued, Scheduled, Awaiting, Processing, Succeeded, Failed, Deleted; received "Done"$/,
    );
    await rejects(() => client.listJobs({ queue: 42 as unknown as string }), /^listJobs\(\) queue must be a non-empty string/);
    await rejects(() => client.listJobs({ before: '' }), /^listJobs\(\) before must be a non-empty string/);
    await rejects(() => client.listJobs({ before: 'job-7' }), /^listJobs\(\) before must be the id of a job .*; received "job-7"$/);
    await rejects(() => client.searchJobs({ text: '' }), /^searchJobs\(\) text must be a non-empty string of at most 1000 characters/);
    await rejects(() => client.searchJobs({ text: 'x', limit: 1_001 }), /^searchJobs\(\) limit must be an integer between 1 and 1000/);
    await rejects(
      () => client.searchJobs({ text: 'x', scanLimit: 100_001 }),
      /^searchJobs\(\) scanLimit must be an integer between 1 and 100000; received 100001$/,
    );
    await rejects(() => client.searchJobs({ text: 'x', type: '' }), /^searchJobs\(\) type must be a non-empty string/);
    await rejects(() => client.countJobs({ queue: '' }), /^countJobs\(\) filter\.queue must be a non-empty string/);
    await rejects(() => client.countJobs(null as unknown as object), /^countJobs\(\) filter must be an object; received null$/);
    await rejects(
      () => client.countOutcomesPerMinute(new Date(Number.NaN)),
      /^countOutcomesPerMinute\(\) since must be a valid Date; received Date\(Invalid Date\)$/,
    );
    await rejects(
      () => client.countOutcomesPerMinute('2030-01-01' as unknown as Date),
      /^countOutcomesPerMinute\(\) since must be a valid Date; received "2030-01-01"$/,
    );
  });

  it("show a worker's jobs: counts, queue stats, outcomes per minute, pages and search", async () => {
    const store = tempStore();
    const client = testClient(store);
    const ok = defineJob('ok', (_: { user: string }) => undefined);
    const bad = defineJob('bad', (_: { user: string }) => {
      throw new Error('boom');
    });
    const since = new Date();
    const worker = testWorker({ store, queues: ['default', 'mail'], jobs: [ok, bad], retry: { attempts: 1 } });
    const oks = await client.enqueueMany(
      ok,
      ['ada', 'grace', 'alan', 'edsger', 'barbara'].map((user) => ({ user })),
    );
    const adaFails = await client.enqueue(bad, { user: 'ada_l' }, { queue: 'mail' });
    const graceFails = await client.enqueue(bad, { user: 'grace%h' }, { queue: 'mail' });
    const later = await client.schedule(ok, { user: 'tim' }, { delay: 3_600_000 });
    await worker.start();
    await waitFor(async () => (await client.countJobs()).Failed === 2 && (await client.countJobs()).Succeeded === 5, 'every job to finish');

    const counts = await client.countJobs();
    assert.deepEqual(counts, { Enqueued: 0, Scheduled: 1, Awaiting: 0, Processing: 0, Succeeded: 5, Failed: 2, Deleted: 0 });
    assert.equal((await client.countJobs({ queue: 'mail' })).Failed, 2);
    assert.equal((await client.countJobs({ type: 'ok' })).Succeeded, 5);
    assert.deepEqual(
      (await client.queueStats()).map((queue) => [queue.queue, queue.counts.Succeeded, queue.counts.Failed, queue.oldestEnqueuedAt]),
      [
        ['default', 5, 0, undefined],
        ['mail', 0, 2, undefined],
      ],
    );
    const outcomes = await client.countOutcomesPerMinute(since);
    assert.deepEqual(
      [outcomes.reduce((sum, minute) => sum + minute.succeeded, 0), outcomes.reduce((sum, minute) => sum + minute.failed, 0)],
      [5, 2],
    );

    const first = await client.listJobs({ limit: 4 });
    const second = await client.listJobs({ limit: 4, before: first.at(-1)!.id });
    assert.deepEqual(
      [...first, ...second].map((job) => job.id),
      [later, graceFails, adaFails, ...[...oks].reverse()],
    );
    assert.deepEqual(
      (await client.listJobs({ state: 'Failed', queue: 'mail', limit: 1 })).map((job) => job.id),
      [graceFails],
    );
    assert.deepEqual(
      (await client.searchJobs({ text: 'grace' })).jobs.map((job) => job.id),
      [graceFails, oks[1]],
    );
    assert.deepEqual(
      (await client.searchJobs({ text: '%' })).jobs.map((job) => job.id),
      [graceFails],
    );
    assert.deepEqual(await client.searchJobs({ text: 'ada', state: 'Succeeded', scanLimit: 4 }), { jobs: [], next: oks[1] });
  });
});
