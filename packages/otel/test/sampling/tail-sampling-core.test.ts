/**
 * JobTailSamplingProcessor with the real Pilotlight core and the real SDK: the SDK's default
 * sampler records every attempt, the tail sampler (ratio 0) exports only the attempts that failed,
 * were cancelled, timed out or were slow, each with the spans its handler made.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { defineJob } from 'pilotlight';
import { JobTailSamplingProcessor, type TailSamplingOptions } from '@pilotlight/otel';
import { createSdk, installContext, jobsTracedTo, waitFor, waitForState, type Sdk } from './support.ts';

installContext();

function tailSampledSdk(options: TailSamplingOptions): { sdk: Sdk; tail: () => JobTailSamplingProcessor } {
  let tail: JobTailSamplingProcessor | undefined;
  const sdk = createSdk({ wrap: (next) => (tail = new JobTailSamplingProcessor(next, options)) });
  return { sdk, tail: () => tail! };
}

/** A handler's own spans: a child of the attempt, and a grandchild, as a query under an HTTP call would be. */
async function nestedWork(sdk: Sdk): Promise<void> {
  await sdk.tracer.startActiveSpan('call billing', async (child) => {
    await sdk.tracer.startActiveSpan('SELECT invoices', async (grandchild) => {
      await sleep(1);
      grandchild.end();
    });
    child.end();
  });
}

function byTrace(spans: ReadableSpan[], traceId: string): string[] {
  return spans
    .filter((span) => span.spanContext().traceId === traceId)
    .map((span) => span.name)
    .sort();
}

describe('the tail sampler with the real core', () => {
  it('exports every failed attempt whole and no successful one at ratio 0; creations pass through', async () => {
    const { sdk, tail } = tailSampledSdk({ ratio: 0 });
    const failing = defineJob(
      'billing.charge',
      async (_: void, context) => {
        await nestedWork(sdk);
        if (context.attempt < 3) throw new Error(`declined ${context.attempt}`);
      },
      { retry: { attempts: 3, backoff: 10 } },
    );
    const fine = defineJob('billing.report', () => nestedWork(sdk));
    const { client, worker } = await jobsTracedTo(sdk, [failing, fine]);
    const failingId = await client.enqueue(failing, undefined);
    const fineId = await client.enqueue(fine, undefined);
    await waitForState(client, failingId, 'Succeeded');
    await waitForState(client, fineId, 'Succeeded');
    await worker.stop(); // every attempt has ended
    await sdk.provider.forceFlush();

    const attempts = sdk.named('process billing.charge');
    assert.deepEqual(
      attempts.map((span) => [span.attributes['pilotlight.job.attempt'], span.status.code]),
      [
        [1, SpanStatusCode.ERROR],
        [2, SpanStatusCode.ERROR],
      ],
      'the two failed attempts; the third succeeded and was dropped',
    );
    for (const attempt of attempts) {
      const children = sdk.spans().filter((span) => span.parentSpanContext?.spanId === attempt.spanContext().spanId);
      assert.deepEqual(
        children.map((span) => span.name),
        ['call billing'],
      );
      const grandchildren = sdk.spans().filter((span) => span.parentSpanContext?.spanId === children[0]!.spanContext().spanId);
      assert.deepEqual(
        grandchildren.map((span) => span.name),
        ['SELECT invoices'],
      );
    }
    assert.equal(sdk.named('call billing').length, 2, 'no span of a successful attempt');
    assert.deepEqual(sdk.named('process billing.report'), []);
    assert.equal(sdk.named('enqueue billing.charge').length, 1, 'creations are not under an attempt');
    assert.equal(sdk.named('enqueue billing.report').length, 1);
    assert.equal(tail().bufferedSpans, 0);
    assert.equal(tail().trackedSpans, 0);
  });

  it('exports a cancelled attempt', async () => {
    const { sdk } = tailSampledSdk({ ratio: 0 });
    const long = defineJob('report.long', async (_: void, context) => {
      await sdk.tracer.startActiveSpan('long work', async (span) => {
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
        span.end();
      });
      throw context.signal.reason;
    });
    const { client } = await jobsTracedTo(sdk, [long]);
    const id = await client.enqueue(long, undefined);
    await waitForState(client, id, 'Processing');
    await client.delete(id);
    const [attempt] = await sdk.waitForSpans('process report.long', 1);
    assert.equal(attempt!.attributes['pilotlight.job.cancelled'], true);
    await sdk.waitForSpans('long work', 1);
    assert.deepEqual(byTrace(sdk.spans(), attempt!.spanContext().traceId), [
      'enqueue report.long',
      'long work',
      'process report.long',
      'transition report.long',
    ]);
  });

  it('exports a timed-out attempt, and the span its handler ends after the attempt (a late descendant)', async () => {
    const { sdk, tail } = tailSampledSdk({ ratio: 0 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const stubborn = defineJob(
      'import.stubborn',
      () =>
        sdk.tracer.startActiveSpan('import rows', async (span) => {
          await released; // ignores its abort signal
          span.end();
        }),
      { timeout: 100, retry: { attempts: 1 } },
    );
    const { client } = await jobsTracedTo(sdk, [stubborn]);
    const id = await client.enqueue(stubborn, undefined);
    await waitForState(client, id, 'Failed');
    const [attempt] = await sdk.waitForSpans('process import.stubborn', 1);
    assert.equal(attempt!.status.code, SpanStatusCode.ERROR);
    assert.equal(attempt!.attributes['error.type'], 'JobTimeoutError');
    assert.deepEqual(sdk.named('import rows'), [], 'still running');
    assert.equal(tail().trackedSpans, 1, 'the running handler span, whose attempt is decided');
    release();
    const [late] = await sdk.waitForSpans('import rows', 1);
    assert.equal(late!.parentSpanContext?.spanId, attempt!.spanContext().spanId);
    assert.equal(tail().trackedSpans, 0);
  });

  it('exports a slow success', async () => {
    const { sdk } = tailSampledSdk({ ratio: 0, slowerThanMs: 50 });
    const slow = defineJob('report.slow', async () => {
      await sdk.tracer.startActiveSpan('render', async (span) => {
        await sleep(120);
        span.end();
      });
    });
    const { client } = await jobsTracedTo(sdk, [slow]);
    const id = await client.enqueue(slow, undefined);
    await waitForState(client, id, 'Succeeded');
    const [attempt] = await sdk.waitForSpans('process report.slow', 1);
    assert.equal(attempt!.status.code, SpanStatusCode.UNSET);
    await waitFor(() => sdk.named('render').length === 1, 'the handler span, passed on with its attempt');
  });
});
