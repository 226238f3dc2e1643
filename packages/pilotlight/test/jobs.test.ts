import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, type JobContext } from '../src/index.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState, wrapStore } from './support/helpers.ts';

describe('job kinds', () => {
  it('runs a function job with its typed arguments and gives it a full context', async () => {
    const store = tempStore();
    const client = testClient(store);
    let seen: { args: unknown; context: JobContext } | undefined;
    const sendEmail = defineJob('email.send', (args: { to: string }, context) => {
      seen = { args, context };
    });
    const worker = testWorker({ store, jobs: [sendEmail], queues: ['mail'] });
    await worker.start();
    const id = await client.enqueue(sendEmail, { to: 'ada@example.com' }, { queue: 'mail', metadata: { tenant: 't1' } });
    await waitForState(client, id, 'Succeeded');
    assert.deepEqual(seen!.args, { to: 'ada@example.com' });
    const { context } = seen!;
    assert.equal(context.jobId, id);
    assert.equal(context.type, 'email.send');
    assert.equal(context.method, '');
    assert.equal(context.queue, 'mail');
    assert.equal(context.attempt, 1);
    assert.equal(context.retryCount, 0);
    assert.equal(context.serverName, worker.name);
    assert.match(worker.name, /^[^:]+:\d+:[0-9a-f]{8}$/);
    assert.deepEqual(context.metadata, { tenant: 't1' });
    assert.equal(context.signal.aborted, false);
  });

  it('runs a class-based job through the activator, with the context appended to its arguments', async () => {
    const store = tempStore();
    const client = testClient(store);
    const calls: unknown[][] = [];
    class TenantService {
      readonly region: string;
      constructor(region: string) {
        this.region = region;
      }
      async provisionTenant(tenantId: string, seats: number, context: JobContext) {
        calls.push([this.region, tenantId, seats, context.method]);
      }
    }
    const activated: unknown[] = [];
    const worker = testWorker({
      store,
      jobs: [TenantService],
      activate: (jobClass) => {
        activated.push(jobClass);
        return new TenantService('eu');
      },
    });
    await worker.start();
    const id = await client.enqueue(TenantService, 'provisionTenant', ['tenant-42', 5]);
    const job = await waitForState(client, id, 'Succeeded');
    assert.deepEqual(calls, [['eu', 'tenant-42', 5, 'provisionTenant']]);
    assert.deepEqual(activated, [TenantService]);
    assert.equal(job.type, 'TenantService');
    assert.equal(job.method, 'provisionTenant');
    assert.deepEqual(job.args, ['tenant-42', 5]);
  });

  it('stores a class under its static jobType when it has one', async () => {
    const store = tempStore();
    const client = testClient(store);
    class Minified {
      static readonly jobType = 'Billing';
      charge(_amount: number) {}
    }
    const id = await client.enqueue(Minified, 'charge', [10]);
    assert.equal((await client.getJob(id))!.type, 'Billing');
  });

  it('schedules a job after a delay or at a date, and runs a date in the past now', async () => {
    const store = tempStore();
    const client = testClient(store);
    const ran: string[] = [];
    const job = defineJob('mark', (name: string) => void ran.push(name));
    const later = await client.schedule(job, 'later', { delay: 300 });
    const atDate = await client.schedule(job, 'at', { at: new Date(Date.now() + 300) });
    const past = await client.schedule(job, 'past', { at: new Date(Date.now() - 60_000) });
    assert.equal((await client.getJob(later))!.state, 'Scheduled');
    assert.equal((await client.getJob(atDate))!.state, 'Scheduled');
    assert.equal((await client.getJob(past))!.state, 'Enqueued');
    const worker = testWorker({ store, jobs: [job] });
    await worker.start();
    await waitForState(client, later, 'Succeeded');
    await waitForState(client, atDate, 'Succeeded');
    await waitForState(client, past, 'Succeeded');
    assert.equal(ran[0], 'past');
    const history = await client.getHistory(later);
    assert.deepEqual(
      history.map((s) => s.name),
      ['Scheduled', 'Enqueued', 'Processing', 'Succeeded'],
    );
    assert.ok(history[0]!.runAt instanceof Date);
    assert.ok(history[2]!.at.getTime() >= history[0]!.runAt!.getTime());
  });

  it('enqueues many jobs in one call and runs them all', async () => {
    const store = tempStore();
    const client = testClient(store);
    let sum = 0;
    const add = defineJob('add', (n: number) => void (sum += n));
    const ids = await client.enqueueMany(add, [1, 2, 3, 4]);
    assert.equal(new Set(ids).size, 4);
    const worker = testWorker({ store, jobs: [add] });
    await worker.start();
    for (const id of ids) await waitForState(client, id, 'Succeeded');
    assert.equal(sum, 10);
  });

  it('records progress reported by a running job', async () => {
    const store = tempStore();
    const client = testClient(store);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const job = defineJob('progress', async (_: void, context) => {
      await context.reportProgress(40, 'scanning');
      await gate;
    });
    const worker = testWorker({ store, jobs: [job] });
    await worker.start();
    const id = await client.enqueue(job, undefined);
    const running = await waitFor(async () => {
      const job = await client.getJob(id);
      return job?.progress ? job : undefined;
    }, 'progress to be recorded');
    assert.equal(running.state, 'Processing');
    assert.equal(running.serverName, worker.name);
    assert.deepEqual(running.progress, { value: 40, message: 'scanning' });
    release();
    await waitForState(client, id, 'Succeeded');
  });

  it('starts higher priority jobs first, then the oldest', async () => {
    const store = tempStore();
    const client = testClient(store);
    const order: string[] = [];
    const job = defineJob('ordered', (name: string) => void order.push(name));
    await client.enqueue(job, 'low-1', { priority: -1 });
    await client.enqueue(job, 'normal-1');
    await client.enqueue(job, 'high-1', { priority: 10 });
    await client.enqueue(job, 'normal-2');
    const last = await client.enqueue(job, 'high-2', { priority: 10 });
    const worker = testWorker({ store, jobs: [job], concurrency: 1 });
    await worker.start();
    await waitForState(client, last, 'Succeeded');
    await waitFor(() => order.length === 5, 'five runs');
    assert.deepEqual(order, ['high-1', 'high-2', 'normal-1', 'normal-2', 'low-1']);
  });

  it('keeps at most one unfinished job per dedup key', async () => {
    const store = tempStore();
    const client = testClient(store);
    let runs = 0;
    const refresh = defineJob('cache.refresh', () => void runs++);
    const first = await client.enqueue(refresh, undefined, { dedupKey: 'cache:home' });
    const second = await client.enqueue(refresh, undefined, { dedupKey: 'cache:home' });
    const delayed = await client.schedule(refresh, undefined, { delay: 60_000, dedupKey: 'cache:home' });
    const other = await client.enqueue(refresh, undefined, { dedupKey: 'cache:about' });
    assert.equal(second, first);
    assert.equal(delayed, first);
    assert.notEqual(other, first);
    const worker = testWorker({ store, jobs: [refresh] });
    await worker.start();
    await waitForState(client, first, 'Succeeded');
    await waitForState(client, other, 'Succeeded');
    const third = await client.enqueue(refresh, undefined, { dedupKey: 'cache:home' });
    assert.notEqual(third, first, 'a finished job releases its key');
    await waitForState(client, third, 'Succeeded');
    assert.equal(runs, 3);
  });

  it('deletes finished jobs once their retention runs out, and keeps failed ones', async () => {
    const store = tempStore();
    const client = testClient(store);
    const ok = defineJob('ok', () => undefined);
    const bad = defineJob('bad', () => {
      throw new Error('kept for a person to see');
    });
    const worker = testWorker({ store, jobs: [ok, bad], retention: { succeeded: 0 }, retry: { attempts: 1 } });
    await worker.start();
    const done = await client.enqueue(ok, undefined);
    const failed = await client.enqueue(bad, undefined);
    await waitFor(async () => (await client.getJob(done)) === undefined, 'the succeeded job to be deleted');
    assert.deepEqual(await client.getHistory(done), []);
    await waitForState(client, failed, 'Failed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await client.getJob(failed))!.state, 'Failed');
  });

  it('deletes a backlog of expired jobs in bounded pages, all of it in one maintenance pass', async () => {
    const store = tempStore();
    const client = testClient(store);
    const ok = defineJob('ok', () => undefined);
    // Worker A finishes 1,200 jobs that expire at once; its only maintenance pass ran at its start.
    const a = testWorker({ store, jobs: [ok], retention: { succeeded: 0 }, maintenanceInterval: 60_000 });
    await client.enqueueMany(ok, new Array<undefined>(1_200).fill(undefined));
    await a.start();
    await waitFor(async () => (await client.countJobs()).Succeeded === 1_200, 'every job to succeed');
    await a.stop();
    // Worker B's first pass (at its start; the next one is a minute away) deletes them, page by page.
    const pages: number[] = [];
    const counting = wrapStore(store, {
      deleteExpiredJobs: async (now, limit) => {
        const deleted = await store.deleteExpiredJobs(now, limit);
        pages.push(deleted);
        return deleted;
      },
    });
    const b = testWorker({ store: counting, jobs: [ok], maintenanceInterval: 60_000 });
    await b.start();
    await waitFor(() => pages.length === 3, 'the first pass to delete three pages');
    assert.deepEqual(pages, [500, 500, 200]);
    assert.equal((await client.countJobs()).Succeeded, 0);
  });
});
