import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob } from '../../src/index.ts';
import { tempStore, testClient, testWorker, waitForState } from '../support/helpers.ts';

describe('debounce', () => {
  it('a burst of enqueues with one key runs once, the last, after the delay; the replaced jobs are Deleted naming their replacement', async () => {
    const store = tempStore();
    const client = testClient(store);
    const ran: number[] = [];
    const reindex = defineJob('search.reindex', (args: { user: string; n: number }) => void ran.push(args.n), {
      debounce: { key: (args) => `reindex:${args.user}`, delay: 300 },
    });
    const worker = testWorker({ store, jobs: [reindex] });
    await worker.start();
    const before = Date.now();
    const ids = [];
    for (let n = 1; n <= 3; n++) ids.push(await client.enqueue(reindex, { user: 'ada', n }));
    const other = await client.enqueue(reindex, { user: 'bob', n: 10 });
    const last = (await client.getJob(ids[2]!))!;
    assert.equal(last.state, 'Scheduled');
    assert.equal(last.debounceKey, 'reindex:ada');
    assert.ok(last.runAt.getTime() >= before + 300);
    await waitForState(client, ids[2]!, 'Succeeded');
    await waitForState(client, other, 'Succeeded');
    assert.deepEqual(
      ran.sort((a, b) => a - b),
      [3, 10],
    );
    for (const [i, id] of ids.slice(0, 2).entries()) {
      const replaced = (await client.getJob(id))!;
      assert.equal(replaced.state, 'Deleted');
      assert.equal(replaced.stateReason, `Debounced: replaced by job ${ids[i + 1]}`);
      assert.deepEqual(
        (await client.getHistory(id)).map((state) => state.name),
        ['Scheduled', 'Deleted'],
      );
    }
    const succeeded = (await client.getHistory(ids[2]!)).find((state) => state.name === 'Processing')!;
    assert.ok(succeeded.at.getTime() >= before + 300, 'it ran after the delay');
  });

  it('with delay 0 the job is Enqueued at once and replaces a waiting holder; `debounce: null` drops the default', async () => {
    const store = tempStore();
    const client = testClient(store);
    const ping = defineJob('ping', (_: number) => undefined, { debounce: { key: 'ping', delay: 0 } });
    const first = await client.enqueue(ping, 1);
    const second = await client.enqueue(ping, 2);
    assert.equal((await client.getJob(first))!.state, 'Deleted');
    assert.equal((await client.getJob(second))!.state, 'Enqueued');
    const undebounced = await client.enqueue(ping, 3, { debounce: null });
    const job = (await client.getJob(undebounced))!;
    assert.equal(job.debounceKey, undefined);
    assert.equal((await client.getJob(second))!.state, 'Enqueued', 'a job without a debounce replaces nothing');
    // schedule() of a definition that debounces: the default is dropped with null.
    const scheduled = await client.schedule(ping, 4, { delay: 60_000, debounce: null });
    assert.equal((await client.getJob(scheduled))!.state, 'Scheduled');
  });
});
