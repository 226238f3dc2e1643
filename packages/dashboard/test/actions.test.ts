import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, defineJob, silentLogger, type JobFilter, type StateName } from 'pilotlight';
import { byTestId, RECURRING_ID, seededStore, serve, Session, squash, textOf, waitFor } from './http-support.ts';

const seed = await seededStore();
const { store, client, ids } = seed;
const served = await serve({ store, basePath: '/admin/jobs' });
const session = new Session(served);
/** Waits in a queue no worker takes. */
const idle = defineJob('idle.job', (_args: { n: number }) => {});

async function stateOf(id: string): Promise<StateName | undefined> {
  return (await store.getJob(id))?.state;
}

/** The flash the page after a 303 shows, checking the redirect on the way. */
async function flashAfter(response: Awaited<ReturnType<Session['post']>>, location: string): Promise<string> {
  assert.equal(response.status, 303, textOf(response.body));
  assert.equal(response.headers.location, `/admin/jobs${location}`);
  const page = await session.follow(response);
  assert.equal(page.status, 200);
  const [flash] = byTestId(page.body, 'flash');
  assert.ok(flash, 'the page shows the result');
  return flash;
}

describe('job actions', () => {
  it('requeues a failed job: it is enqueued again, and its history says so', async () => {
    const id = await client.enqueue(idle, { n: 1 }, { queue: 'idle' });
    await client.delete(id);
    const response = await session.post(`/jobs/${id}/requeue`, { _return: `/jobs/${id}` });
    assert.equal(await flashAfter(response, `/jobs/${id}`), `Requeued job ${id}`);
    assert.equal(await stateOf(id), 'Enqueued');
    const last = (await client.getHistory(id)).at(-1)!;
    assert.deepEqual([last.name, last.reason], ['Enqueued', 'Requeued from the dashboard']);
  });

  it('requeues the failed job of the seed, which the worker then runs again', async () => {
    const attempts = (await store.getJob(ids.failed))!.attempt;
    await flashAfter(await session.post(`/jobs/${ids.failed}/requeue`, {}), `/jobs/${ids.failed}`);
    await waitFor(async () => (await store.getJob(ids.failed))!.attempt > attempts, 'the requeued job to run again');
    assert.ok((await client.getHistory(ids.failed)).some((entry) => entry.reason === 'Requeued from the dashboard'));
  });

  it('deletes a job, and says so when there was nothing to do', async () => {
    const id = await client.enqueue(idle, { n: 2 }, { queue: 'idle' });
    assert.equal(await flashAfter(await session.post(`/jobs/${id}/delete`, {}), `/jobs/${id}`), `Deleted job ${id}`);
    assert.equal(await stateOf(id), 'Deleted');
    assert.equal((await client.getHistory(id)).at(-1)!.reason, 'Deleted from the dashboard');
    assert.equal(await flashAfter(await session.post(`/jobs/${id}/delete`, {}), `/jobs/${id}`), `Job ${id} was not deleted: it is Deleted`);
    const running = await flashAfter(await session.post(`/jobs/${ids.processing}/requeue`, {}), `/jobs/${ids.processing}`);
    assert.equal(running, `Job ${ids.processing} was not requeued: it is Processing`);
    assert.equal(await stateOf(ids.processing), 'Processing');
  });

  it('shows the result once: the next page has no flash', async () => {
    const id = await client.enqueue(idle, { n: 3 }, { queue: 'idle' });
    await flashAfter(await session.post(`/jobs/${id}/delete`, {}), `/jobs/${id}`);
    assert.deepEqual(byTestId((await session.get(`/jobs/${id}`)).body, 'flash'), []);
  });

  it('answers 404 for an unknown job, changing nothing', async () => {
    const counts = await store.countJobs();
    const response = await session.post('/jobs/999999/requeue', {});
    assert.equal(response.status, 404);
    assert.match(textOf(response.body), /Job 999999 does not exist/);
    assert.deepEqual(await store.countJobs(), counts);
  });

  it("returns to the form's page, never to another site", async () => {
    const id = await client.enqueue(idle, { n: 4 }, { queue: 'idle' });
    const back = await session.post(`/jobs/${id}/delete`, { _return: '/jobs?state=Enqueued&queue=idle' });
    assert.equal(back.headers.location, '/admin/jobs/jobs?state=Enqueued&queue=idle');
    for (const elsewhere of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
      const response = await session.post(`/jobs/${id}/delete`, { _return: elsewhere });
      assert.equal(response.headers.location, `/admin/jobs/jobs/${id}`, elsewhere);
    }
  });

  it("runs through the application's client when given one: its filters see the dashboard's state changes", async () => {
    const applied: string[] = [];
    const audit: JobFilter = { onStateApplied: (ctx) => void applied.push(`${ctx.job.id}:${ctx.newState.name}:${ctx.newState.reason}`) };
    const own = await serve({ client: createClient({ store, filters: [audit], logger: silentLogger }) });
    const id = await client.enqueue(idle, { n: 5 }, { queue: 'idle' });
    const response = await new Session(own).post(`/jobs/${id}/delete`, {});
    assert.equal(response.status, 303);
    assert.deepEqual(applied, [`${id}:Deleted:Deleted from the dashboard`]);
  });
});

describe('recurring actions', () => {
  it('triggers a recurring job now: a job of it is enqueued', async () => {
    const flash = await flashAfter(await session.post(`/recurring/${RECURRING_ID}/trigger`, {}), '/recurring');
    const [job] = await store.listJobs({ type: 'email.send', limit: 1 });
    assert.equal(job!.recurringId, RECURRING_ID);
    assert.equal(flash, `Triggered recurring job '${RECURRING_ID}': job ${job!.id} is enqueued`);
  });

  it('removes a recurring job, and answers 404 for one that does not exist', async () => {
    await client.recurring.addOrUpdate('to-remove', '@daily', idle, { n: 0 });
    assert.equal(
      await flashAfter(await session.post('/recurring/to-remove/remove', {}), '/recurring'),
      "Removed recurring job 'to-remove'",
    );
    assert.equal(await store.getRecurring('to-remove'), undefined);
    assert.equal((await session.post('/recurring/to-remove/remove', {})).status, 404);
    assert.equal((await session.post('/recurring/never-was/trigger', {})).status, 404);
  });
});

describe('bulk actions', () => {
  it('asks to confirm a selection with its count, then applies it', async () => {
    const selected = await client.enqueueMany(idle, [{ n: 10 }, { n: 11 }, { n: 12 }], { queue: 'selection' });
    const confirm = await session.post('/jobs/bulk', { action: 'delete', id: selected, _return: '/jobs?state=Enqueued&queue=selection' });
    assert.equal(confirm.status, 200);
    const page = squash(confirm.body);
    assert.match(textOf(page), /Delete 3 selected jobs\?/);
    assert.deepEqual(byTestId(page, 'bulk-confirm'), ['Delete 3 jobs']);
    for (const id of selected) assert.equal(await stateOf(id), 'Enqueued', 'nothing changes before the confirmation');
    for (const id of selected) assert.match(page, new RegExp(`<input type="hidden" name="id" value="${id}"/>`));
    assert.match(page, /<input type="hidden" name="confirm" value="3"\/>/);
    const done = await session.post('/jobs/bulk', {
      action: 'delete',
      id: selected,
      confirm: '3',
      _return: '/jobs?state=Enqueued&queue=selection',
    });
    assert.equal(await flashAfter(done, '/jobs?state=Enqueued&queue=selection'), 'Deleted 3 jobs');
    for (const id of selected) assert.equal(await stateOf(id), 'Deleted');
  });

  it('applies a filter to everything it matches, in batches, once its count is confirmed; newer jobs are left alone', async () => {
    const jobs = await client.enqueueMany(
      idle,
      Array.from({ length: 1_100 }, (_, n) => ({ n })),
      { queue: 'bulk' },
    );
    const fields = { action: 'delete', scope: 'filter', state: 'Enqueued', queue: 'bulk' };
    const confirm = squash((await session.post('/jobs/bulk', fields)).body);
    assert.match(textOf(confirm), /Delete 1,100 jobs in state Enqueued, in queue bulk\?/);
    assert.deepEqual(byTestId(confirm, 'bulk-confirm'), ['Delete 1,100 jobs']);
    const upto = /name="upto" value="(\d+)"/.exec(confirm)?.[1];
    assert.equal(upto, jobs.at(-1));
    const newer = await client.enqueue(idle, { n: -1 }, { queue: 'bulk' });
    const done = await session.post('/jobs/bulk', { ...fields, confirm: '1100', upto: upto! });
    assert.equal(await flashAfter(done, '/jobs'), 'Deleted 1,100 jobs');
    assert.equal((await store.countJobs({ queue: 'bulk' })).Deleted, 1_100);
    assert.equal(await stateOf(newer), 'Enqueued', 'created after the confirmation');
  });

  it('never changes more jobs than confirmed', async () => {
    const jobs = await client.enqueueMany(idle, [{ n: 1 }, { n: 2 }, { n: 3 }], { queue: 'capped' });
    const done = await session.post('/jobs/bulk', {
      action: 'delete',
      scope: 'filter',
      state: 'Enqueued',
      queue: 'capped',
      confirm: '2',
      upto: jobs.at(-1)!,
    });
    assert.equal(await flashAfter(done, '/jobs'), 'Deleted 2 jobs');
    assert.deepEqual(await Promise.all(jobs.map(stateOf)), ['Enqueued', 'Deleted', 'Deleted'], 'newest first');
  });

  it('requeues every deleted job of a filter; a count of 0 says there is nothing to do', async () => {
    const id = await client.enqueue(idle, { n: 0 }, { queue: 'requeue-me' });
    await client.delete(id);
    const fields = { action: 'requeue', scope: 'filter', state: 'Deleted', queue: 'requeue-me' };
    const confirm = squash((await session.post('/jobs/bulk', fields)).body);
    assert.deepEqual(byTestId(confirm, 'bulk-confirm'), ['Requeue 1 job']);
    const upto = /name="upto" value="(\d+)"/.exec(confirm)![1]!;
    assert.equal(await flashAfter(await session.post('/jobs/bulk', { ...fields, confirm: '1', upto }), '/jobs'), 'Requeued 1 job');
    assert.equal(await stateOf(id), 'Enqueued');
    const nothing = squash((await session.post('/jobs/bulk', fields)).body);
    assert.match(textOf(nothing), /Nothing to requeue: no job matches any more/);
  });

  it('refuses a bulk request without jobs, with too many, or with an unknown action (400, nothing changed)', async () => {
    const counts = await store.countJobs();
    const cases: Record<string, string | string[]>[] = [
      { action: 'delete' },
      { action: 'delete', id: Array.from({ length: 501 }, (_, n) => String(n + 1)) },
      { action: 'explode', id: ids.enqueued[0]! },
      { action: 'delete', scope: 'filter', state: 'Lost' },
      { action: 'delete', scope: 'filter' },
      { action: 'delete', id: ids.enqueued[0]!, confirm: 'all' },
    ];
    for (const fields of cases) assert.equal((await session.post('/jobs/bulk', fields)).status, 400, JSON.stringify(fields).slice(0, 80));
    assert.deepEqual(await store.countJobs(), counts);
  });
});
