/**
 * The job sampler with the real Pilotlight core (client, worker, SQLite store) and the real SDK
 * TracerProvider: every attribute a rule reads is there when the span starts, and a retry is
 * exported when its job's type is sampled at 0, in 'child' and in 'link' parenting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlwaysOnSampler, type Sampler } from '@opentelemetry/sdk-trace';
import { SpanKind, type Attributes, type Tracer } from '@opentelemetry/api';
import { defineJob, type Parenting } from 'pilotlight';
import { jobAttributes, MessagingAttributes } from 'pilotlight/semconv';
import { createJobSampler } from '@pilotlight/otel';
import { createSdk, inSpan, installContext, jobsTracedTo, waitForState } from './support.ts';

installContext();

/** Fails its first attempt, succeeds on the second; each attempt makes a child span of its own. */
function flakyJob(type: string, tracer: Tracer) {
  return defineJob(
    type,
    (_: void, context) => {
      tracer.startSpan(`work of attempt ${context.attempt}`).end();
      if (context.attempt === 1) throw new Error('first attempt fails');
    },
    { retry: { attempts: 2, backoff: 10 } },
  );
}

describe('the job sampler with the real core', () => {
  it('sees every attribute its rules read when the span starts: type, queue, recurring id, attempt', async () => {
    const started: Array<{ name: string; attributes: Attributes }> = [];
    const recording: Sampler = {
      shouldSample(_context, _traceId, name, _kind, attributes) {
        started.push({ name, attributes: { ...attributes } });
        return new AlwaysOnSampler().shouldSample();
      },
      toString: () => 'recording',
    };
    const sdk = createSdk({ sampler: recording });
    const report = flakyJob('report.build', sdk.tracer);
    const { client } = await jobsTracedTo(sdk, [report]);
    const a = jobAttributes('pilotlight');
    await client.recurring.addOrUpdate('nightly-report', '0 3 * * *', report, undefined, { queue: 'bulk' });
    const id = await client.recurring.trigger('nightly-report');
    await waitForState(client, id, 'Succeeded');

    const at = (name: string) => started.filter((span) => span.name === name).map((span) => span.attributes);
    const [enqueue] = at('enqueue report.build');
    assert.equal(enqueue?.[MessagingAttributes.system], 'pilotlight');
    assert.equal(enqueue?.[MessagingAttributes.destinationName], 'bulk');
    assert.equal(enqueue?.[a.jobType], 'report.build');
    assert.equal(enqueue?.[a.recurringId], 'nightly-report');
    const attempts = at('process report.build');
    assert.deepEqual(
      attempts.map((attributes) => [
        attributes[MessagingAttributes.system],
        attributes[MessagingAttributes.operationType],
        attributes[MessagingAttributes.destinationName],
        attributes[a.jobType],
        attributes[a.recurringId],
        attributes[a.attempt],
      ]),
      [
        ['pilotlight', 'process', 'bulk', 'report.build', 'nightly-report', 1],
        ['pilotlight', 'process', 'bulk', 'report.build', 'nightly-report', 2],
      ],
    );
  });

  it('drops a job type sampled at 0 and keeps the others, at the creation and at the attempt', async () => {
    const sdk = createSdk({ sampler: createJobSampler({ types: { 'email.send': 0 } }).parentBased() });
    const email = defineJob('email.send', () => sdk.tracer.startSpan('smtp').end());
    const audit = defineJob('audit.write', () => sdk.tracer.startSpan('insert audit').end());
    const { client } = await jobsTracedTo(sdk, [email, audit]);
    const ids = [await client.enqueue(email, undefined), await client.enqueue(audit, undefined)];
    for (const id of ids) await waitForState(client, id, 'Succeeded');
    await sdk.waitForSpans('process audit.write', 1);
    await sdk.waitForSpans('insert audit', 1);
    assert.deepEqual(sdk.named('enqueue audit.write').length, 1);
    assert.deepEqual(
      sdk.spans().filter((span) => span.name.includes('email.send') || span.name === 'smtp'),
      [],
    );
  });

  it('keeps the namespace of the tracing option attributeNamespace', async () => {
    const sdk = createSdk({ sampler: createJobSampler({ namespace: 'hangfire', types: { 'email.send': 0 } }).parentBased() });
    const email = defineJob('email.send', () => undefined);
    const audit = defineJob('audit.write', () => undefined);
    const { client } = await jobsTracedTo(sdk, [email, audit], { attributeNamespace: 'hangfire' });
    const ids = [await client.enqueue(email, undefined), await client.enqueue(audit, undefined)];
    for (const id of ids) await waitForState(client, id, 'Succeeded');
    await sdk.waitForSpans('process audit.write', 1);
    assert.deepEqual(
      sdk.spans().filter((span) => span.name.includes('email.send')),
      [],
    );
  });

  for (const parenting of ['child', 'link'] as const satisfies Parenting[]) {
    it(`'${parenting}' parenting: with ratio 0 for the type, the retry's span is exported, the first attempt's is not`, async () => {
      const sdk = createSdk({ sampler: createJobSampler({ types: { 'email.send': 0 } }).parentBased() });
      const email = flakyJob('email.send', sdk.tracer);
      const { client } = await jobsTracedTo(sdk, [email], { parenting });
      const id = await client.enqueue(email, undefined);
      await waitForState(client, id, 'Succeeded');
      const [retry] = await sdk.waitForSpans('process email.send', 1);
      await sdk.waitForSpans('work of attempt 2', 1);
      assert.equal(retry!.attributes['pilotlight.job.attempt'], 2);
      assert.equal(retry!.kind, SpanKind.CONSUMER);
      const creation = (await client.getJob(id))!.metadata.traceparent!;
      const [, creationTraceId, creationSpanId, flags] = creation.split('-');
      assert.equal(flags, '00', 'the creation was not sampled');
      if (parenting === 'child') {
        // Same trace, parented to the creation span, which the backend never receives.
        assert.equal(retry!.spanContext().traceId, creationTraceId);
        assert.equal(retry!.parentSpanContext?.spanId, creationSpanId);
      } else {
        assert.equal(retry!.parentSpanContext, undefined, 'a root');
        assert.equal(retry!.links[0]?.context.spanId, creationSpanId);
      }
      // The handler's span follows its attempt; nothing else of the job was sampled.
      assert.deepEqual(
        sdk
          .spans()
          .map((span) => span.name)
          .sort(),
        ['process email.send', 'work of attempt 2'],
      );
    });
  }

  it("'child' parenting under a sampled request: the job follows the request, whatever its type's ratio", async () => {
    const sdk = createSdk({ sampler: createJobSampler({ types: { 'email.send': 0 } }).parentBased() });
    const email = defineJob('email.send', () => undefined);
    const { client } = await jobsTracedTo(sdk, [email]);
    const id = await inSpan(sdk.tracer, 'POST /signup', () => client.enqueue(email, undefined));
    await waitForState(client, id, 'Succeeded');
    const [attempt] = await sdk.waitForSpans('process email.send', 1);
    const [enqueue] = sdk.named('enqueue email.send');
    const [request] = sdk.named('POST /signup');
    assert.equal(enqueue?.parentSpanContext?.spanId, request?.spanContext().spanId);
    assert.equal(attempt?.parentSpanContext?.spanId, enqueue?.spanContext().spanId);
  });

  it('samples every occurrence of a recurring job by its recurring rule, before the type rule', async () => {
    const sdk = createSdk({
      sampler: createJobSampler({ types: { 'report.build': 0 }, recurring: { 'nightly-report': 1 } }).parentBased(),
    });
    const report = defineJob('report.build', () => undefined);
    const { client } = await jobsTracedTo(sdk, [report]);
    await client.recurring.addOrUpdate('nightly-report', '0 3 * * *', report, undefined);
    const occurrence = await client.recurring.trigger('nightly-report');
    const plain = await client.enqueue(report, undefined);
    await waitForState(client, occurrence, 'Succeeded');
    await waitForState(client, plain, 'Succeeded');
    const [attempt] = await sdk.waitForSpans('process report.build', 1);
    assert.equal(attempt!.attributes['pilotlight.job.id'], occurrence);
    assert.deepEqual(
      sdk.named('enqueue report.build').map((span) => span.attributes['pilotlight.job.id']),
      [occurrence],
    );
  });
});
