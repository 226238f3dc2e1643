import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob } from '../../src/index.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from '../support/helpers.ts';
import { countingClaims } from './support.ts';

describe('rate limits', () => {
  it('start at most `max` jobs per window; the store wakes the worker when a window closes, with no polling meanwhile', async () => {
    const sqlite = tempStore();
    const { store, claims } = countingClaims(sqlite);
    const client = testClient(sqlite);
    const call = defineJob('partner.call', (_: number) => undefined, { rateLimit: { max: 3, per: 400 } });
    const ids = [];
    for (let i = 0; i < 9; i++) ids.push(await client.enqueue(call, i));
    // A poll far longer than the test: every window after the first is started by the store's wake.
    const worker = testWorker({ store, jobs: [call], concurrency: 10, pollInterval: 60_000, maintenanceInterval: 60_000 });
    await worker.start();
    for (const id of ids) await waitForState(client, id, 'Succeeded', 15_000);
    // When each started: its claim (the Processing entry), the time the store counts in its window.
    const starts: number[] = [];
    for (const id of ids) starts.push((await client.getHistory(id)).find((state) => state.name === 'Processing')!.at.getTime());
    starts.sort((a, b) => a - b);
    // Three windows of 400 ms: the 4th start is at least one window after the 1st, the 7th after the 4th.
    const slack = 2; // ms rounding of stored times
    assert.ok(starts[3]! - starts[0]! >= 400 - slack, `4th start ${starts[3]! - starts[0]!} ms after the 1st`);
    assert.ok(starts[6]! - starts[3]! >= 400 - slack, `7th start ${starts[6]! - starts[3]!} ms after the 4th`);
    // Claims: the first, one per wake and per finished batch; a busy loop would make hundreds.
    assert.ok(claims() < 30, `${claims()} claims for 9 jobs in 3 windows`);
    const job = (await client.getJob(ids[0]!))!;
    assert.deepEqual(job.rateLimit, { key: 'partner.call', max: 3, per: 400 }, 'the key defaults to the job type');
  });

  it('a queue rate limit set through client.queues applies to all its jobs; removing it releases them', async () => {
    const sqlite = tempStore();
    const { store, claims } = countingClaims(sqlite);
    const client = testClient(sqlite);
    const hook = defineJob('hook', (_: number) => undefined, { queue: 'webhooks' });
    await client.queues.setRateLimit('webhooks', { max: 2, per: 86_400_000 });
    assert.deepEqual((await client.queues.get('webhooks')).rateLimit, { max: 2, per: 86_400_000 });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await client.enqueue(hook, i));
    const worker = testWorker({ store, jobs: [hook], queues: ['webhooks'] });
    await worker.start();
    await waitForState(client, ids[0]!, 'Succeeded');
    await waitForState(client, ids[1]!, 'Succeeded');
    // A day-long window: the others wait, however often the worker claims (it polls every 20 ms here).
    const seen = claims();
    await waitFor(() => claims() >= seen + 5, 'five more claims');
    assert.equal((await client.countJobs({ queue: 'webhooks' })).Enqueued, 3);
    await client.queues.setRateLimit('webhooks', null);
    for (const id of ids) await waitForState(client, id, 'Succeeded');
  });
});
