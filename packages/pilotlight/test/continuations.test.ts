import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, JobNotFoundError } from '../src/index.ts';
import { tempStore, testClient, testWorker, waitForState } from './support/helpers.ts';

describe('continuations', () => {
  const parentJob = defineJob('parent', (mode: 'ok' | 'fail' | 'wait', context) => {
    if (mode === 'fail') throw new Error('parent failed');
    if (mode === 'wait') return new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));
  });
  const welcome = defineJob('welcome', (_: string) => undefined);

  it('waits in Awaiting, then runs when the parent succeeds', async () => {
    const store = tempStore();
    const client = testClient(store);
    const parent = await client.schedule(parentJob, 'ok', { delay: 200 });
    const child = await client.continueWith(parent, welcome, 'ada');
    const waiting = await client.getJob(child);
    assert.equal(waiting!.state, 'Awaiting');
    assert.equal(waiting!.parentId, parent);
    assert.equal((await client.getJob(parent))!.hasContinuations, true);
    const worker = testWorker({ store, jobs: [parentJob, welcome] });
    await worker.start();
    await waitForState(client, child, 'Succeeded');
    const parentDone = (await client.getHistory(parent)).at(-1)!;
    const released = (await client.getHistory(child)).find((state) => state.name === 'Enqueued')!;
    assert.equal(released.reason, `Parent job ${parent} succeeded`);
    assert.ok(released.at >= parentDone.at);
  });

  it('runs at once when the parent had already succeeded', async () => {
    const store = tempStore();
    const client = testClient(store);
    const worker = testWorker({ store, jobs: [parentJob, welcome] });
    await worker.start();
    const parent = await client.enqueue(parentJob, 'ok');
    await waitForState(client, parent, 'Succeeded');
    const child = await client.continueWith(parent, welcome, 'late');
    await waitForState(client, child, 'Succeeded');
  });

  it('keeps waiting while the parent is Failed (it can be requeued), and runs once a requeued parent succeeds', async () => {
    const store = tempStore();
    const client = testClient(store);
    let outage = true;
    const flaky = defineJob('depends.on.outage', () => {
      if (outage) throw new Error('service down');
    });
    const worker = testWorker({ store, jobs: [flaky, welcome], retry: { attempts: 1 } });
    await worker.start();
    const parent = await client.enqueue(flaky, undefined);
    const child = await client.continueWith(parent, welcome, 'x');
    await waitForState(client, parent, 'Failed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await client.getJob(child))!.state, 'Awaiting');
    outage = false;
    assert.equal(await client.requeue(parent), true);
    await waitForState(client, parent, 'Succeeded');
    await waitForState(client, child, 'Succeeded');
  });

  it('is deleted when its parent is deleted, even while the parent runs', async () => {
    const store = tempStore();
    const client = testClient(store);
    const worker = testWorker({ store, jobs: [parentJob, welcome] });
    await worker.start();
    const parent = await client.enqueue(parentJob, 'wait');
    const child = await client.continueWith(parent, welcome, 'x');
    await waitForState(client, parent, 'Processing');
    assert.equal(await client.delete(parent), true);
    const deleted = await waitForState(client, child, 'Deleted');
    assert.equal(deleted.stateReason, `Parent job ${parent} was deleted`);
  });

  it('rejects an unknown parent and writes nothing', async () => {
    const store = tempStore();
    const client = testClient(store);
    await assert.rejects(client.continueWith('987654', welcome, 'x'), (error: unknown) => {
      assert.ok(error instanceof JobNotFoundError);
      assert.equal(error.message, 'Continuation parent job 987654 does not exist');
      return true;
    });
    assert.equal((await client.listJobs()).length, 0);
  });

  it('maintenance releases a continuation a crash left waiting after its parent finished', async () => {
    const store = tempStore();
    const client = testClient(store);
    const parent = await client.enqueue(parentJob, 'ok');
    const child = await client.continueWith(parent, welcome, 'x');
    // The parent succeeds in a process that dies before releasing its continuations.
    const [claimed] = await store.claimJobs({
      queues: ['default'],
      limit: 1,
      serverName: 'gone',
      now: new Date(),
      leaseUntil: new Date(Date.now() + 1000),
    });
    await store.transition([{ id: claimed!.id, expect: { state: 'Processing' }, to: { name: 'Succeeded', at: new Date() } }]);
    assert.equal((await client.getJob(child))!.state, 'Awaiting');
    const worker = testWorker({ store, jobs: [welcome] });
    await worker.start();
    await waitForState(client, child, 'Succeeded');
  });
});
