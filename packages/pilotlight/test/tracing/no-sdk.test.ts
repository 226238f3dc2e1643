import { trace } from '@opentelemetry/api';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineJob } from '../../src/index.ts';
import { tempStore, testClient, testWorker, waitForState } from '../support/helpers.ts';

it('with no OpenTelemetry SDK registered, tracing is on, silent and stores no trace context', async () => {
  assert.equal(trace.getTracer('probe').startSpan('probe').isRecording(), false, 'no SDK in this process');
  const store = tempStore();
  const client = testClient(store);
  const seen: boolean[] = [];
  const job = defineJob('plain', () => void seen.push(trace.getActiveSpan()?.isRecording() ?? false));
  const worker = testWorker({ store, jobs: [job] });
  await worker.start();
  const id = await client.enqueue(job, undefined);
  const done = await waitForState(client, id, 'Succeeded');
  assert.deepEqual(done.metadata, {});
  assert.deepEqual(seen, [false]);
});
