import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { defineJob, type JobContext } from '../../src/index.ts';
import { eventNames, installOtel, parentOf } from '../support/otel.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from '../support/helpers.ts';

const otel = installOtel();

class TenantService {
  async provisionTenant(tenantId: string, context: JobContext) {
    await trace.getTracer('app').startActiveSpan('db.insert tenants', async (span) => {
      span.setAttribute('tenant', tenantId);
      span.end();
    });
    if (tenantId === 'flaky' && context.attempt < 3) throw new TypeError(`storage not ready (attempt ${context.attempt})`);
    if (tenantId === 'broken') throw new Error('always broken');
  }
}

/** Waits until `count` spans named `name` have ended. */
function ended(name: string, count = 1) {
  return waitFor(() => (otel.named(name).length >= count ? otel.named(name) : undefined), `${count} span(s) '${name}'`);
}

describe('trace shape of jobs', () => {
  it("nests creation under the active span and execution under creation, with state events and the handler's spans beneath", async () => {
    const store = tempStore();
    const client = testClient(store);
    const worker = testWorker({ store, jobs: [TenantService] });
    const id = await otel.inSpan('POST /api/tenants', () => client.enqueue(TenantService, 'provisionTenant', ['acme']));
    await worker.start();
    await waitForState(client, id, 'Succeeded');
    const [request] = otel.named('POST /api/tenants');
    const [producer] = await ended('enqueue TenantService.provisionTenant');
    const [consumer] = await ended('process TenantService.provisionTenant');
    const [db] = otel.named('db.insert tenants');

    const traceId = request!.spanContext().traceId;
    for (const span of [producer!, consumer!, db!])
      assert.equal(span.spanContext().traceId, traceId, `${span.name} is in the request's trace`);
    assert.equal(parentOf(producer!), request!.spanContext().spanId);
    assert.equal(parentOf(consumer!), producer!.spanContext().spanId);
    assert.equal(parentOf(db!), consumer!.spanContext().spanId, "the handler's span nests under the attempt");
    assert.deepEqual(
      consumer!.links.map((link) => link.context.spanId),
      [producer!.spanContext().spanId],
      'child mode also links',
    );

    assert.equal(producer!.kind, SpanKind.PRODUCER);
    assert.deepEqual(producer!.attributes, {
      'messaging.system': 'pilotlight',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'enqueue',
      'messaging.destination.name': 'default',
      'messaging.message.id': id,
      'pilotlight.job.id': id,
      'pilotlight.job.type': 'TenantService',
      'pilotlight.job.method': 'provisionTenant',
    });
    assert.deepEqual(eventNames(producer!), ['State Applied: Enqueued']);
    assert.deepEqual(producer!.events[0]!.attributes, { 'pilotlight.state.new': 'Enqueued' });

    assert.equal(consumer!.kind, SpanKind.CONSUMER);
    const attributes = consumer!.attributes;
    assert.equal(attributes['messaging.operation.type'], 'process');
    assert.equal(attributes['messaging.operation.name'], 'process');
    assert.equal(attributes['messaging.message.id'], id);
    assert.equal(attributes['messaging.client.id'], worker.name);
    assert.equal(attributes['pilotlight.server.name'], worker.name);
    assert.equal(attributes['pilotlight.job.attempt'], 1);
    assert.equal(attributes['pilotlight.retry.count'], 0);
    assert.equal(typeof attributes['pilotlight.queue.wait_ms'], 'number');
    assert.ok((attributes['pilotlight.queue.wait_ms'] as number) >= 0);
    assert.deepEqual(eventNames(consumer!), ['State Applied: Processing', 'State Applied: Succeeded']);
    assert.deepEqual(consumer!.events[1]!.attributes, { 'pilotlight.state.new': 'Succeeded', 'pilotlight.state.old': 'Processing' });
    assert.equal(consumer!.status.code, SpanStatusCode.UNSET);
    for (const span of [producer!, consumer!]) {
      for (const event of span.events) {
        const at = hrTimeToMilliseconds(event.time);
        assert.ok(
          at >= hrTimeToMilliseconds(span.startTime) && at <= hrTimeToMilliseconds(span.endTime),
          `${event.name} lies within ${span.name}`,
        );
      }
    }
    assert.equal((await client.getJob(id))!.metadata.traceparent?.split('-')[1], traceId, 'the trace context is stored with the job');
  });

  it('records three attempts for a job that fails twice, then succeeds: errors on the first two, retry count, events in order', async () => {
    const store = tempStore();
    const client = testClient(store);
    const worker = testWorker({ store, jobs: [TenantService], retry: { backoff: 10 } });
    await worker.start();
    const id = await client.enqueue(TenantService, 'provisionTenant', ['flaky']);
    await waitForState(client, id, 'Succeeded');
    const attempts = await ended('process TenantService.provisionTenant', 3);
    const [producer] = otel.named('enqueue TenantService.provisionTenant');
    assert.deepEqual(
      attempts.map((span) => span.attributes['pilotlight.job.attempt']),
      [1, 2, 3],
    );
    assert.deepEqual(
      attempts.map((span) => span.attributes['pilotlight.retry.count']),
      [0, 1, 2],
    );
    for (const span of attempts) assert.equal(parentOf(span), producer!.spanContext().spanId, 'every attempt continues the creation');
    for (const [i, span] of attempts.slice(0, 2).entries()) {
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.status.message, `storage not ready (attempt ${i + 1})`);
      assert.equal(span.attributes['error.type'], 'TypeError');
      // The exception is recorded when the attempt ends, after its final state was applied.
      assert.deepEqual(eventNames(span), ['State Applied: Processing', 'State Applied: Scheduled', 'exception']);
      const exception = span.events.find((event) => event.name === 'exception')!;
      assert.equal(exception.attributes!['exception.type'], 'TypeError');
      assert.equal(exception.attributes!['exception.message'], `storage not ready (attempt ${i + 1})`);
      assert.match(String(exception.attributes!['exception.stacktrace']), /provisionTenant/);
      const retry = span.events.find((event) => event.name === 'State Applied: Scheduled')!;
      assert.match(String(retry.attributes!['pilotlight.state.reason']), new RegExp(`^Retry ${i + 1} of 9 in 10 ms: storage not ready`));
    }
    assert.equal(attempts[2]!.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(eventNames(attempts[2]!), ['State Applied: Processing', 'State Applied: Succeeded']);
    // The promotions of the retries (Scheduled → Enqueued) happen outside any job span: short INTERNAL spans in the trace.
    const promotions = await ended('transition TenantService.provisionTenant', 2);
    for (const span of promotions) {
      assert.equal(span.kind, SpanKind.INTERNAL);
      assert.equal(span.spanContext().traceId, producer!.spanContext().traceId);
      assert.equal(parentOf(span), producer!.spanContext().spanId);
      assert.equal(span.attributes['messaging.operation.type'], 'settle');
      assert.deepEqual(eventNames(span), ['State Applied: Enqueued']);
      assert.equal(span.attributes['pilotlight.state.old'], 'Scheduled');
    }
  });

  it('fails the last attempt when retries are exhausted', async () => {
    const store = tempStore();
    const client = testClient(store);
    const worker = testWorker({ store, jobs: [TenantService], retry: { attempts: 2, backoff: 5 } });
    await worker.start();
    const id = await client.enqueue(TenantService, 'provisionTenant', ['broken']);
    await waitForState(client, id, 'Failed');
    const attempts = await ended('process TenantService.provisionTenant', 2);
    const last = attempts[1]!;
    assert.equal(last.status.code, SpanStatusCode.ERROR);
    assert.equal(last.attributes['error.type'], 'Error');
    const failed = last.events.find((event) => event.name === 'State Applied: Failed')!;
    assert.equal(failed.attributes!['pilotlight.state.reason'], 'Failed after 2 attempt(s), no retry left: always broken');
  });

  it('traces a delayed job: a schedule span, its promotion, then the attempt', async () => {
    const store = tempStore();
    const client = testClient(store);
    const job = defineJob('report.build', () => undefined);
    const worker = testWorker({ store, jobs: [job] });
    await worker.start();
    const id = await client.schedule(job, undefined, { delay: 100 });
    await waitForState(client, id, 'Succeeded');
    const [producer] = await ended('schedule report.build');
    const [promotion] = await ended('transition report.build');
    const [consumer] = await ended('process report.build');
    assert.equal(producer!.attributes['messaging.operation.name'], 'schedule');
    assert.deepEqual(eventNames(producer!), ['State Applied: Scheduled']);
    assert.equal(promotion!.events[0]!.attributes!['pilotlight.state.reason'], 'Scheduled time reached');
    assert.equal(parentOf(consumer!), producer!.spanContext().spanId);
    assert.ok((consumer!.attributes['pilotlight.queue.wait_ms'] as number) < 5_000);
  });

  it('traces a continuation from its own creation, and its release as a transition', async () => {
    const store = tempStore();
    const client = testClient(store);
    const parentJob = defineJob('parent', () => undefined);
    const child = defineJob('child', () => undefined);
    const worker = testWorker({ store, jobs: [parentJob, child] });
    const [parentId, childId] = await otel.inSpan('request', async () => {
      const parentId = await client.enqueue(parentJob, undefined);
      return [parentId, await client.continueWith(parentId, child, undefined)];
    });
    await worker.start();
    await waitForState(client, childId!, 'Succeeded');
    const [creation] = await ended('continue child');
    const [release] = await ended('transition child');
    const [consumer] = await ended('process child');
    assert.equal(creation!.attributes['messaging.operation.name'], 'continue');
    assert.deepEqual(eventNames(creation!), ['State Applied: Awaiting']);
    assert.equal(release!.events[0]!.attributes!['pilotlight.state.reason'], `Parent job ${parentId} succeeded`);
    assert.equal(parentOf(release!), creation!.spanContext().spanId);
    assert.equal(parentOf(consumer!), creation!.spanContext().spanId);
  });

  it('starts a fresh trace for each recurring occurrence, even when the worker started inside a span', async () => {
    const store = tempStore();
    const client = testClient(store);
    const tick = defineJob('tick', () => undefined);
    await client.recurring.addOrUpdate('ticker', '* * * * * *', tick, undefined);
    const worker = testWorker({ store, jobs: [tick] });
    await otel.inSpan('app startup', () => worker.start());
    const producers = await ended('enqueue tick', 2);
    const traces = new Set(producers.map((span) => span.spanContext().traceId));
    assert.equal(traces.size, producers.length, 'one trace per occurrence');
    for (const span of producers) {
      assert.equal(parentOf(span), undefined, 'a root span');
      assert.equal(span.attributes['pilotlight.job.recurring_id'], 'ticker');
    }
    const consumers = await ended('process tick', 1);
    assert.ok(traces.has(consumers[0]!.spanContext().traceId));
  });
});
