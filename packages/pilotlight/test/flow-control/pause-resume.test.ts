import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob } from '../../src/index.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from '../support/helpers.ts';
import { countingClaims } from './support.ts';

describe('pause and resume', () => {
  it('a paused queue starts nothing, whatever the claims; resume wakes the idle worker at once', async () => {
    const sqlite = tempStore();
    const { store, claims } = countingClaims(sqlite);
    const client = testClient(sqlite);
    const send = defineJob('email.send', (_: string) => 'sent', { queue: 'emails' });
    const other = defineJob('other', (_: number) => undefined);
    const paused = await client.queues.pause('emails');
    assert.equal(paused.paused, true);
    assert.deepEqual(
      (await client.queues.list()).map((queue) => [queue.queue, queue.paused]),
      [['emails', true]],
    );
    assert.deepEqual(await client.queues.get('default'), {
      queue: 'default',
      paused: false,
      concurrencyLimit: undefined,
      rateLimit: undefined,
      updatedAt: undefined,
    });
    // A poll far longer than the test: only wakes make this worker claim.
    const worker = testWorker({ store, jobs: [send, other], queues: ['emails', 'default'], pollInterval: 60_000 });
    await worker.start();
    const seen = claims();
    const id = await client.enqueue(send, 'ada@example.com');
    const unpaused = await client.enqueue(other, 1);
    await waitForState(client, unpaused, 'Succeeded'); // the wake of the enqueue made the worker claim
    await waitFor(() => claims() > seen, 'a claim after the enqueue');
    assert.equal((await client.getJob(id))!.state, 'Enqueued');
    const resumed = await client.queues.resume('emails');
    assert.equal(resumed.paused, false);
    assert.ok(resumed.updatedAt instanceof Date);
    await waitForState(client, id, 'Succeeded', 5_000);
  });

  it('pausing lets running jobs finish', async () => {
    const store = tempStore();
    const client = testClient(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = defineJob('slow', async (_: number) => held);
    const worker = testWorker({ store, jobs: [slow] });
    await worker.start();
    const running = await client.enqueue(slow, 1);
    await waitForState(client, running, 'Processing');
    await client.queues.pause('default');
    const waiting = await client.enqueue(slow, 2);
    release();
    await waitForState(client, running, 'Succeeded');
    assert.equal((await client.getJob(waiting))!.state, 'Enqueued');
    await client.queues.resume('default');
    await waitForState(client, waiting, 'Succeeded');
  });
});
