import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob } from '../../src/index.ts';
import { DEBOUNCED_EVENT, jobAttributes } from '../../src/semconv.ts';
import { installOtel } from '../support/otel.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from '../support/helpers.ts';

const otel = installOtel();
const a = jobAttributes('pilotlight');

describe('tracing of flow control', () => {
  it('creation and attempt spans carry the concurrency, rate-limit and batch keys', async () => {
    const store = tempStore();
    const client = testClient(store);
    const sync = defineJob('tenant.sync', (_: { tenant: string }) => undefined, {
      concurrency: { key: (args) => `tenant:${args.tenant}`, limit: 1 },
      rateLimit: { max: 100, per: 1000 },
    });
    const { batchId, ids } = await client.batch([{ job: sync, args: { tenant: 't1' } }]);
    const worker = testWorker({ store, jobs: [sync] });
    await worker.start();
    await waitForState(client, ids[0]!, 'Succeeded');
    const created = await waitFor(() => otel.named('enqueue tenant.sync')[0], 'the creation span');
    const attempt = await waitFor(() => otel.named('process tenant.sync')[0], 'the attempt span');
    for (const span of [created, attempt]) {
      assert.equal(span.attributes[a.concurrencyKey], 'tenant:t1');
      assert.equal(span.attributes[a.rateLimitKey], 'tenant.sync');
      assert.equal(span.attributes[a.batchId], batchId);
      assert.equal(span.attributes[a.debounceKey], undefined);
    }
    assert.equal(typeof attempt.attributes[a.queueWaitMs], 'number');
  });

  it('a debounced job names the job it replaced on its creation span (Debounced event); the replaced job gets a Deleted transition span with its reason', async () => {
    const store = tempStore();
    const client = testClient(store);
    const ping = defineJob('ping', (_: number) => undefined, { debounce: { key: 'ping:1', delay: 60_000 } });
    const first = await client.enqueue(ping, 1);
    const second = await client.enqueue(ping, 2);
    const creations = otel.named('schedule ping'); // debounced with a delay: created Scheduled
    assert.equal(creations.length, 2);
    const [firstSpan, secondSpan] = creations;
    assert.equal(firstSpan!.attributes[a.debounceKey], 'ping:1');
    assert.equal(firstSpan!.attributes[a.replacedId], undefined);
    assert.equal(secondSpan!.attributes[a.replacedId], first);
    const event = secondSpan!.events.find((e) => e.name === DEBOUNCED_EVENT)!;
    assert.equal(event.attributes![a.replacedId], first);
    const deletion = otel.named('transition ping').find((span) => span.attributes[a.jobId] === first)!;
    assert.equal(deletion.attributes[a.stateNew], 'Deleted');
    assert.equal(deletion.attributes[a.stateOld], 'Scheduled');
    const applied = deletion.events.find((e) => e.name === 'State Applied: Deleted')!;
    assert.equal(applied.attributes![a.stateReason], `Debounced: replaced by job ${second}`);
  });
});
