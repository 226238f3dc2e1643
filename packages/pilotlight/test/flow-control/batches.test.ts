import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, defineJob, ErrorCodes, PilotlightError, silentLogger, type Client } from '../../src/index.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from '../support/helpers.ts';

const ok = defineJob('member.ok', (n: number) => n * 2);
const fail = defineJob('member.fail', (_: number) => {
  throw new Error('member failed');
});
class Reports {
  static jobType = 'Reports';
  build(name: string, pages: number) {
    return `${name}:${pages}`;
  }
}

describe('batches and batch continuations', () => {
  it('batch() creates every member under one id; continueWhenAll() runs once all succeeded; getBatch() counts them', async () => {
    const store = tempStore();
    const client = testClient(store);
    let summaries = 0;
    const summary = defineJob('summary', (_: string) => void summaries++);
    const { batchId, ids } = await client.batch([
      { job: ok, args: 1 },
      { job: ok, args: 2, options: { priority: 5 } },
      { job: Reports, method: 'build', args: ['q3', 12] },
    ]);
    assert.equal(ids.length, 3);
    assert.deepEqual((await client.listJobs({ batchId })).map((job) => job.id).sort(), [...ids].sort());
    const continuation = await client.continueWhenAll(batchId, summary, 'all done');
    const waiting = (await client.getJob(continuation))!;
    assert.equal(waiting.state, 'Awaiting');
    assert.deepEqual(waiting.awaitsBatch, { batchId, when: 'succeeded' });
    assert.equal((await client.getBatch(batchId))!.counts.Enqueued, 3);
    const worker = testWorker({ store, jobs: [ok, Reports, summary] });
    await worker.start();
    await waitForState(client, continuation, 'Succeeded');
    const batch = (await client.getBatch(batchId))!;
    assert.equal(batch.total, 3);
    assert.equal(batch.counts.Succeeded, 3);
    assert.equal((await client.getJob(ids[2]!))!.result, 'q3:12');
    const released = (await client.getHistory(continuation)).find((state) => state.name === 'Enqueued')!;
    assert.equal(released.reason, `Batch ${batchId}: all 3 members succeeded`);
    assert.equal(summaries, 1);
    assert.equal(await client.getBatch('no-such-batch'), undefined);
  });

  it("when: 'succeeded' deletes the continuation once every member finished and some failed; when: 'finished' runs it", async () => {
    const store = tempStore();
    const client = testClient(store);
    const after = defineJob('after', (_: string) => undefined);
    const worker = testWorker({ store, jobs: [ok, fail, after], retry: { attempts: 1 } });
    const { batchId } = await client.batch([
      { job: ok, args: 1 },
      { job: fail, args: 2 },
      { job: ok, args: 3 },
    ]);
    const onSuccess = await client.continueWhenAll(batchId, after, 'succeeded');
    const onFinish = await client.continueWhenAll(batchId, after, 'finished', { when: 'finished' });
    await worker.start();
    const deleted = await waitForState(client, onSuccess, 'Deleted');
    assert.equal(deleted.stateReason, `Batch ${batchId}: 1 of 3 members did not succeed (1 failed, 0 deleted)`);
    await waitForState(client, onFinish, 'Succeeded');
    const released = (await client.getHistory(onFinish)).find((state) => state.name === 'Enqueued')!;
    assert.equal(released.reason, `Batch ${batchId}: all 3 members finished (2 succeeded)`);
  });

  it('continueWhenAll(ids) gathers existing jobs into a new batch; a job already in one is refused; a batch already done releases at once', async () => {
    const store = tempStore();
    const client = testClient(store);
    const after = defineJob('after', (_: string) => undefined);
    const worker = testWorker({ store, jobs: [ok, after] });
    await worker.start();
    const a = await client.enqueue(ok, 1);
    const b = await client.enqueue(ok, 2);
    await waitForState(client, a, 'Succeeded');
    await waitForState(client, b, 'Succeeded');
    const continuation = await client.continueWhenAll([a, b], after, 'late');
    await waitForState(client, continuation, 'Succeeded');
    const batchId = (await client.getJob(a))!.batchId!;
    assert.equal((await client.getJob(continuation))!.awaitsBatch!.batchId, batchId);
    assert.equal((await client.getBatch(batchId))!.total, 2);
    await assert.rejects(
      client.continueWhenAll([a], after, 'again'),
      (error: unknown) => error instanceof PilotlightError && error.code === ErrorCodes.BATCH_CONFLICT,
    );
  });

  it('releases a batch continuation exactly once when three workers finish its members at the same time', async () => {
    const store = tempStore();
    const client = testClient(store);
    let runs = 0;
    const fanIn = defineJob('fan.in', (_: string) => void runs++);
    const members = Array.from({ length: 60 }, (_, n) => ({ job: ok, args: n }));
    const { batchId } = await client.batch(members);
    const continuations = [];
    for (let i = 0; i < 3; i++) continuations.push(await client.continueWhenAll(batchId, fanIn, `c${i}`));
    const workers = [0, 1, 2].map(() => testWorker({ store, jobs: [ok, fanIn], concurrency: 10 }));
    await Promise.all(workers.map((worker) => worker.start()));
    for (const id of continuations) await waitForState(client, id, 'Succeeded');
    assert.equal(runs, 3, 'each continuation ran once');
    for (const id of continuations) {
      const history = await client.getHistory(id);
      assert.deepEqual(
        history.map((state) => state.name),
        ['Awaiting', 'Enqueued', 'Processing', 'Succeeded'],
      );
    }
  });

  it('maintenance releases a continuation left waiting for a batch that is done (a process died in between)', async () => {
    const store = tempStore();
    // A client without the batch filter's release (no filter runs for jobs written to the store directly).
    const client = testClient(store);
    const after = defineJob('after', (_: string) => undefined);
    const { batchId, ids } = await client.batch([{ job: ok, args: 1 }]);
    const worker = testWorker({ store, jobs: [ok, after] });
    await worker.start();
    await waitForState(client, ids[0]!, 'Succeeded');
    // The continuation written as a process that died before releasing it would have left it.
    const [created] = await store.createJobs([
      {
        type: 'after',
        method: '',
        argsJson: '["left behind"]',
        queue: 'default',
        priority: 0,
        retry: {},
        state: { name: 'Awaiting', at: new Date() },
        runAt: new Date(),
        metadata: {},
        awaitsBatch: { batchId, when: 'succeeded' },
      },
    ]);
    assert.equal(created!.batchUnfinished, 0);
    await waitForState(client, created!.id, 'Succeeded');
  });

  it('types each member as enqueue does', () => {
    // Compiled, never run: tsc checks these lines.
    const typed = (client: Client) => {
      void client.batch([
        { job: ok, args: 1 },
        { job: Reports, method: 'build', args: ['q', 1] },
      ]);
      // @ts-expect-error: ok takes a number
      void client.batch([{ job: ok, args: 'one' }]);
      // @ts-expect-error: build takes (string, number)
      void client.batch([{ job: Reports, method: 'build', args: ['q', 'x'] }]);
      // @ts-expect-error: no such method
      void client.batch([{ job: Reports, method: 'missing', args: [] }]);
      void client.batch([1, 2, 3].map((n) => ({ job: ok, args: n })));
    };
    assert.equal(typeof typed, 'function');
    assert.ok(createClient({ store: tempStore(), logger: silentLogger }).batch);
    void waitFor;
  });
});
