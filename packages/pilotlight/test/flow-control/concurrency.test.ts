import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { defineJob } from '../../src/index.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from '../support/helpers.ts';
import { gate, RunningCounter } from './support.ts';

describe('concurrency keys', () => {
  it('run at most `limit` jobs of a key at once across two workers, while other jobs pass the blocked ones', async () => {
    const store = tempStore();
    const client = testClient(store);
    const counter = new RunningCounter();
    const held = gate();
    let first = true;
    const sync = defineJob(
      'tenant.sync',
      async (args: { tenant: string }) =>
        counter.run(`tenant:${args.tenant}`, async () => {
          if (args.tenant === 'a' && first) {
            first = false;
            await held.wait; // tenant a's first job holds the key until the test lets it go
          } else await sleep(15);
        }),
      { concurrency: { key: (args) => `tenant:${args.tenant}`, limit: 1 } },
    );
    const free = defineJob('free', (_: number) => counter.run('free', () => sleep(15)));
    const workers = [testWorker({ store, jobs: [sync, free], concurrency: 4 }), testWorker({ store, jobs: [sync, free], concurrency: 4 })];
    const blockedA = [];
    for (let i = 0; i < 3; i++) blockedA.push(await client.enqueue(sync, { tenant: 'a' }));
    for (const worker of workers) await worker.start();
    await waitForState(client, blockedA[0]!, 'Processing');
    // Behind tenant a's waiting jobs (older, same priority): tenant b with a limit of 2 given at enqueue, and jobs without a key.
    const others = [];
    for (let i = 0; i < 6; i++) others.push(await client.enqueue(sync, { tenant: 'b' }, { concurrency: { key: 'tenant:b', limit: 2 } }));
    for (let i = 0; i < 6; i++) others.push(await client.enqueue(free, i));
    for (const id of others) await waitForState(client, id, 'Succeeded');
    // Tenant a's other jobs are still waiting for its key, which the first one holds.
    assert.deepEqual(await Promise.all(blockedA.map(async (id) => (await client.getJob(id))!.state)), [
      'Processing',
      'Enqueued',
      'Enqueued',
    ]);
    held.release();
    for (const id of blockedA) await waitForState(client, id, 'Succeeded');
    assert.equal(counter.peak('tenant:a'), 1);
    assert.ok(counter.peak('tenant:b') <= 2, `tenant b ran ${counter.peak('tenant:b')} at once`);
    assert.ok(counter.peak('free') >= 2, 'jobs without a key ran in parallel');
    const job = (await client.getJob(blockedA[0]!))!;
    assert.deepEqual(job.concurrency, { key: 'tenant:a', limit: 1 });
    assert.deepEqual((await client.getJob(others[0]!))!.concurrency, { key: 'tenant:b', limit: 2 });
    assert.equal((await client.getJob(others[6]!))!.concurrency, undefined);
  });

  it('honour a queue concurrency limit set through client.queues', async () => {
    const store = tempStore();
    const client = testClient(store);
    const counter = new RunningCounter();
    const report = defineJob('report', (_: number) => counter.run('reports', () => sleep(20)), { queue: 'reports' });
    await client.queues.setConcurrencyLimit('reports', 2);
    assert.equal((await client.queues.get('reports')).concurrencyLimit, 2);
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await client.enqueue(report, i));
    const workers = [0, 1].map(() => testWorker({ store, jobs: [report], queues: ['reports'], concurrency: 5 }));
    for (const worker of workers) await worker.start();
    for (const id of ids) await waitForState(client, id, 'Succeeded');
    assert.equal(counter.peak('reports'), 2);
    const cleared = await client.queues.setConcurrencyLimit('reports', null);
    assert.equal(cleared.concurrencyLimit, undefined);
    await waitFor(async () => (await client.queues.list()).some((queue) => queue.queue === 'reports'), 'the queue listed');
  });

  it("gives a recurring job's occurrences the concurrency key of its definition, resolved by the worker that fires them", async () => {
    const store = tempStore();
    const client = testClient(store);
    const nightly = defineJob('tenant.nightly', (_: { tenant: string }) => undefined, {
      concurrency: { key: (args) => `tenant:${args.tenant}`, limit: 1 },
    });
    await client.recurring.addOrUpdate('nightly-acme', '* * * * * *', nightly, { tenant: 'acme' }); // every second
    const worker = testWorker({ store, jobs: [nightly] });
    await worker.start();
    const [occurrence] = await waitFor(async () => {
      const jobs = await client.listJobs({ type: 'tenant.nightly' });
      return jobs.length > 0 ? jobs : undefined;
    }, 'an occurrence');
    assert.equal(occurrence!.recurringId, 'nightly-acme');
    assert.deepEqual(occurrence!.concurrency, { key: 'tenant:acme', limit: 1 });
    await client.recurring.remove('nightly-acme');
  });
});
