import { ParentBasedSampler, SamplingDecision, type Sampler } from '@opentelemetry/sdk-trace';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, defineJob, silentLogger, type Parenting } from '../../src/index.ts';
import { installOtel } from '../support/otel.ts';
import { tempStore, testWorker, waitFor, waitForState } from '../support/helpers.ts';

/** Drops root spans named 'request' (an unsampled incoming request); samples every other root. */
const dropRequests: Sampler = {
  shouldSample: (_context, _traceId, name) => ({
    decision: name === 'request' ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED,
  }),
  toString: () => 'dropRequests',
};
const otel = installOtel({ sampler: new ParentBasedSampler({ root: dropRequests }) });
const job = defineJob('audit.write', () => undefined);

async function runInUnsampledRequest(parenting: Parenting) {
  const store = tempStore();
  const client = createClient({ store, logger: silentLogger, tracing: { parenting } });
  const worker = testWorker({ store, jobs: [job], tracing: { parenting } });
  const id = await otel.inSpan('request', () => client.enqueue(job, undefined));
  await worker.start();
  await waitForState(client, id, 'Succeeded');
  return (await client.getJob(id))!;
}

describe('sampling', () => {
  it("in 'child' mode the attempt follows the unsampled creation: nothing is recorded, the job still runs", async () => {
    const job = await runInUnsampledRequest('child');
    assert.match(job.metadata.traceparent!, /-00$/, 'the stored context says: not sampled');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      otel.spans().map((span) => span.name),
      [],
    );
  });

  it("in 'link' mode the attempt is a new root, sampled on its own, linked to the unsampled creation", async () => {
    const job = await runInUnsampledRequest('link');
    const [consumer] = await waitFor(
      () => (otel.named('process audit.write').length ? otel.named('process audit.write') : undefined),
      'the consumer span',
    );
    assert.equal(consumer!.links[0]!.context.traceId, job.metadata.traceparent!.split('-')[1]);
    assert.equal(otel.named('enqueue audit.write').length, 0, 'the creation was not sampled');
  });
});
