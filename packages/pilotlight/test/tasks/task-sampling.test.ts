import { trace } from '@opentelemetry/api';
import { ParentBasedSampler, SamplingDecision, type Sampler } from '@opentelemetry/sdk-trace';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createTaskManager, defineTask, type TaskTracingOptions } from '../../src/tasks/index.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { installOtel, parentOf } from '../support/otel.ts';

/** Drops root spans named 'request' (an unsampled incoming request); samples every other root. */
const dropRequests: Sampler = {
  shouldSample: (_context, _traceId, name) => ({
    decision: name === 'request' ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED,
  }),
  toString: () => 'dropRequests',
};
const otel = installOtel({ sampler: new ParentBasedSampler({ root: dropRequests }) });

const scan = defineTask('MetadataScanTask', async () => {
  trace.getTracer('app').startSpan('db.query').end();
  return 'scanned';
});

function runInUnsampledRequest(tracing: TaskTracingOptions) {
  const tasks = createTaskManager({ concurrency: 1, logger: silentLogger, tracing });
  return otel.inSpan('request', () => tasks.start(scan, undefined).result);
}

it("in 'child' mode a task started in an unsampled request is not recorded, nor are its own spans; it still runs", async () => {
  assert.equal(await runInUnsampledRequest({}), 'scanned');
  assert.deepEqual(
    otel.spans().map((span) => span.name),
    [],
  );
});

it("in 'link' mode it starts a trace of its own, sampled on its own, with its spans beneath", async () => {
  await runInUnsampledRequest({ parenting: 'link' });
  const [task] = otel.named('BackgroundTask.MetadataScanTask');
  const [query] = otel.named('db.query');
  assert.equal(parentOf(task!), undefined);
  assert.equal(parentOf(query!), task!.spanContext().spanId);
  assert.deepEqual(
    task!.links.map((link) => link.context.traceFlags),
    [0],
    'linked to the unsampled request',
  );
});
