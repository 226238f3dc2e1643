import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, type Logger } from '../../src/index.ts';
import { tempStore, testClient, testWorker, waitForState } from '../support/helpers.ts';

describe('job results', () => {
  it('stores what a handler returns with Succeeded, reads it back in getJob() and hands it to continuations as ctx.parentResult', async () => {
    const store = tempStore();
    const client = testClient(store);
    const seen: unknown[] = [];
    const resize = defineJob('image.resize', (args: { id: string }) => ({ id: args.id, sizes: [64, 256], ok: true }));
    const nothing = defineJob('nothing', (_: number) => undefined);
    const notify = defineJob('notify', (_: string, ctx) => void seen.push(ctx.parentResult));
    const worker = testWorker({ store, jobs: [resize, nothing, notify] });
    await worker.start();
    const parent = await client.enqueue(resize, { id: 'img1' });
    const child = await client.continueWith(parent, notify, 'after resize');
    const silent = await client.enqueue(nothing, 1);
    const childOfSilent = await client.continueWith(silent, notify, 'after nothing');
    await waitForState(client, child, 'Succeeded');
    await waitForState(client, childOfSilent, 'Succeeded');
    const done = (await client.getJob(parent))!;
    assert.deepEqual(done.result, { id: 'img1', sizes: [64, 256], ok: true });
    assert.equal(done.resultJson, '{"id":"img1","sizes":[64,256],"ok":true}');
    const none = (await client.getJob(silent))!;
    assert.equal(none.result, undefined);
    assert.equal(none.resultJson, undefined);
    assert.equal(none.stateReason, undefined);
    assert.deepEqual(seen.sort(), [undefined, { id: 'img1', sizes: [64, 256], ok: true }].sort());
    assert.equal((await client.getJob(child))!.result, undefined, 'the continuation itself returned nothing');
  });

  it('a result that cannot be stored leaves the job Succeeded, without a result, saying why, and warns', async () => {
    const store = tempStore();
    const client = testClient(store);
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} };
    const dated = defineJob('dated', (_: number) => ({ at: new Date(0) }));
    const huge = defineJob('huge', (_: number) => 'x'.repeat(1024 * 1024 + 1));
    const worker = testWorker({ store, jobs: [dated, huge], logger });
    await worker.start();
    const a = await client.enqueue(dated, 1);
    const b = await client.enqueue(huge, 1);
    const datedJob = await waitForState(client, a, 'Succeeded');
    const hugeJob = await waitForState(client, b, 'Succeeded');
    assert.equal(datedJob.result, undefined);
    assert.match(datedJob.stateReason!, /^Result not stored: result\.at is a Date: pass date\.toISOString\(\)/);
    assert.equal(hugeJob.result, undefined);
    assert.match(hugeJob.stateReason!, /^Result not stored: result is 1048579 bytes once serialized; the limit is 1048576/);
    assert.equal((await client.getJob(a))!.attempt, 1, 'not retried');
    assert.ok(warnings.some((message) => message.startsWith(`Job ${a} (dated) succeeded, but its result.at is a Date`)));
  });
});
