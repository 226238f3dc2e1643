import assert from 'node:assert/strict';
import { it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { defineJob } from '../../src/index.ts';
import { installOtel } from '../support/otel.ts';
import { tempStore, testClient, testWorker, waitFor, wrapStore } from '../support/helpers.ts';

const otel = installOtel();

it('the store calls of a worker run outside any job span: a batch serves many jobs, and a database instrumentation must not file it under one', async () => {
  const store = tempStore();
  const client = testClient(store);
  const activeSpans: (string | undefined)[] = [];
  const spy = wrapStore(store, {
    transitionAndClaim: async (changes, claim) => {
      if (changes.length > 0) activeSpans.push(trace.getActiveSpan()?.spanContext().spanId);
      return store.transitionAndClaim(changes, claim);
    },
    transition: async (changes) => {
      activeSpans.push(trace.getActiveSpan()?.spanContext().spanId);
      return store.transition(changes);
    },
    setProgress: async (id, attempt, progress) => {
      activeSpans.push(`progress under ${trace.getActiveSpan()?.spanContext().spanId === undefined ? 'nothing' : 'a span'}`);
      return store.setProgress(id, attempt, progress);
    },
  });
  const job = defineJob('store-calls.work', async (_: number, ctx) => {
    await ctx.reportProgress(50);
  });
  const worker = testWorker({ store: spy, jobs: [job] });
  await client.enqueueMany(job, [1, 2, 3, 4, 5]);
  await worker.start();
  await waitFor(async () => (await client.countJobs()).Succeeded === 5, 'every job to succeed');
  await worker.stop();

  const outcomes = activeSpans.filter((entry) => !entry?.startsWith('progress'));
  assert.ok(outcomes.length > 0, 'outcomes were committed');
  assert.deepEqual(
    outcomes,
    outcomes.map(() => undefined),
    'no span active around a batch commit',
  );
  // A call the job itself makes, on its own behalf, stays under its span.
  assert.deepEqual(
    activeSpans.filter((entry) => entry?.startsWith('progress')),
    new Array(5).fill('progress under a span'),
  );
  assert.equal(otel.named('process store-calls.work').length, 5);
});
