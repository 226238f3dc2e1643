import { diag, DiagLogLevel, SpanKind, SpanStatusCode, type DiagLogger } from '@opentelemetry/api';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createClient,
  createWorker,
  defineJob,
  silentLogger,
  ValidationError,
  type Parenting,
  type TracingOptions,
} from '../../src/index.ts';
import { eventNames, installOtel, parentOf } from '../support/otel.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from '../support/helpers.ts';

const otel = installOtel();
const job = defineJob('email.send', (_: { to: string }) => undefined);

function ended(name: string, count = 1) {
  return waitFor(() => (otel.named(name).length >= count ? otel.named(name) : undefined), `${count} span(s) '${name}'`);
}

/** Runs one job created inside a request span; returns the request, producer and consumer spans. */
async function runOne(tracing: TracingOptions = {}, enqueueOptions: { parenting?: Parenting } = {}) {
  const store = tempStore();
  const client = createClient({ store, logger: silentLogger, tracing });
  const worker = testWorker({ store, jobs: [job], tracing });
  const id = await otel.inSpan('request', () => client.enqueue(job, { to: 'secret@example.com' }, enqueueOptions));
  await worker.start();
  await waitForState(client, id, 'Succeeded');
  return { id, client, request: otel.named('request')[0]! };
}

/** Captures diag messages while `work` runs. */
async function withDiag<T>(work: () => Promise<T>): Promise<{ result: T; messages: string[] }> {
  const messages: string[] = [];
  const record = (message: string) => void messages.push(message);
  const logger: DiagLogger = { error: record, warn: record, info: () => undefined, debug: () => undefined, verbose: () => undefined };
  diag.setLogger(logger, DiagLogLevel.WARN);
  try {
    return { result: await work(), messages };
  } finally {
    diag.disable();
  }
}

describe('parenting', () => {
  it("'link': the attempt starts a new trace with a link to the creation", async () => {
    const { request } = await runOne({ parenting: 'link' });
    const [producer] = await ended('enqueue email.send');
    const [consumer] = await ended('process email.send');
    assert.equal(parentOf(producer!), request.spanContext().spanId);
    assert.equal(parentOf(consumer!), undefined);
    assert.notEqual(consumer!.spanContext().traceId, producer!.spanContext().traceId);
    assert.deepEqual(
      consumer!.links.map((link) => link.context.spanId),
      [producer!.spanContext().spanId],
    );
  });

  it("'none': the attempt starts a new, unrelated trace", async () => {
    await runOne({ parenting: 'none' });
    const [producer] = await ended('enqueue email.send');
    const [consumer] = await ended('process email.send');
    assert.equal(parentOf(consumer!), undefined);
    assert.notEqual(consumer!.spanContext().traceId, producer!.spanContext().traceId);
    assert.deepEqual(consumer!.links, []);
  });

  it("a job's own parenting wins over the global option", async () => {
    await runOne({ parenting: 'child' }, { parenting: 'link' });
    const [producer] = await ended('enqueue email.send');
    const [consumer] = await ended('process email.send');
    assert.notEqual(consumer!.spanContext().traceId, producer!.spanContext().traceId);
    assert.equal(consumer!.links.length, 1);
  });
});

describe('tracing options', () => {
  it('never records arguments by default', async () => {
    await runOne();
    const spans = [...(await ended('enqueue email.send')), ...(await ended('process email.send'))];
    for (const span of spans) {
      const text = JSON.stringify({ attributes: span.attributes, events: span.events });
      assert.ok(!text.includes('secret@example.com'), `${span.name} leaks an argument: ${text}`);
    }
  });

  it("spanName reproduces the seed's names; enrich adds business attributes; attributeNamespace renames", async () => {
    const { id } = await runOne({
      spanName: (traced, operation) => `Job ${operation === 'process' ? 'Execution' : 'Creating'}: ${traced.type}`,
      enrich: (span, traced, phase) => span.setAttribute('tenant.tier', `${phase}:${traced.queue}`),
      attributeNamespace: 'hangfire',
    });
    const [producer] = await ended('Job Creating: email.send');
    const [consumer] = await ended('Job Execution: email.send');
    assert.equal(producer!.attributes['tenant.tier'], 'create:default');
    assert.equal(consumer!.attributes['tenant.tier'], 'process:default');
    assert.equal(consumer!.attributes['hangfire.job.id'], id);
    assert.equal(consumer!.attributes['hangfire.retry.count'], 0);
    assert.equal(consumer!.attributes['pilotlight.job.id'], undefined);
    assert.deepEqual(consumer!.events[1]!.attributes, { 'hangfire.state.new': 'Succeeded', 'hangfire.state.old': 'Processing' });
  });

  it('filter(job) leaves some jobs untraced; enabled: false traces nothing', async () => {
    await runOne({ filter: (traced) => traced.type !== 'email.send' });
    await runOne({ enabled: false });
    assert.deepEqual(
      otel.spans().map((span) => span.name),
      ['request', 'request'],
    );
  });

  it('recordException: false keeps the error status and type but no exception event', async () => {
    const store = tempStore();
    const client = testClient(store);
    const failing = defineJob('failing', () => {
      throw new RangeError('out of range');
    });
    const worker = testWorker({ store, jobs: [failing], retry: { attempts: 1 }, tracing: { recordException: false } });
    await worker.start();
    const id = await client.enqueue(failing, undefined);
    await waitForState(client, id, 'Failed');
    const [consumer] = await ended('process failing');
    assert.equal(consumer!.status.code, SpanStatusCode.ERROR);
    assert.equal(consumer!.status.message, 'out of range');
    assert.equal(consumer!.attributes['error.type'], 'RangeError');
    assert.deepEqual(eventNames(consumer!), ['State Applied: Processing', 'State Applied: Failed']);
  });

  it('a throwing enrich, spanName or filter is reported through diag and never breaks the job', async () => {
    const explode = () => {
      throw new Error('hook bug');
    };
    const { messages } = await withDiag(() => runOne({ enrich: explode, spanName: explode, filter: explode }));
    await ended('process email.send');
    assert.ok(
      messages.some((m) => m.includes("enrich() threw in phase 'process'")),
      messages.join('\n'),
    );
    assert.ok(messages.some((m) => m.includes('spanName() threw')));
    assert.ok(messages.some((m) => m.includes('filter(job) threw')));
  });

  it('marks a cancelled attempt', async () => {
    const store = tempStore();
    const client = testClient(store);
    const long = defineJob(
      'long',
      (_: void, context) => new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason))),
    );
    const worker = testWorker({ store, jobs: [long] });
    await worker.start();
    const id = await client.enqueue(long, undefined);
    await waitForState(client, id, 'Processing');
    await client.delete(id);
    const [consumer] = await ended('process long');
    assert.equal(consumer!.attributes['pilotlight.job.cancelled'], true);
    assert.equal(consumer!.attributes['error.type'], 'cancelled');
    assert.match(consumer!.status.message!, /^Job cancelled: Job \d+ was deleted while running$/);
    const [deletion] = await ended('transition long');
    assert.equal(deletion!.kind, SpanKind.INTERNAL);
    assert.deepEqual(eventNames(deletion!), ['State Applied: Deleted']);
  });

  it('runs a job whose stored trace context is malformed: new root span and a diag warning', async () => {
    const store = tempStore();
    const client = testClient(store);
    const worker = testWorker({ store, jobs: [job] });
    // Written by hand (an old version, a bug, an edited row): the client would have stored a valid one.
    const at = new Date();
    const [created] = await store.createJobs([
      {
        type: 'email.send',
        method: '',
        argsJson: '[{"to":"x"}]',
        queue: 'default',
        priority: 0,
        retry: {},
        state: { name: 'Enqueued', at },
        runAt: at,
        metadata: { traceparent: '00-not-a-trace-context-01' },
      },
    ]);
    const id = created!.id;
    const { messages } = await withDiag(async () => {
      await worker.start();
      await waitForState(client, id, 'Succeeded');
      return ended('process email.send');
    });
    const [consumer] = otel.named('process email.send');
    assert.equal(parentOf(consumer!), undefined);
    assert.deepEqual(consumer!.links, []);
    assert.ok(
      messages.some((m) => m.includes(`job ${id} has an unreadable stored trace context`)),
      messages.join('\n'),
    );
  });

  it('rejects bad options, naming the option and the value', async () => {
    const store = tempStore();
    const cases: [TracingOptions, RegExp][] = [
      [{ parenting: 'sibling' as never }, /options\.tracing\.parenting must be one of child, link, none; received "sibling"/],
      [{ enabled: 'yes' as never }, /options\.tracing\.enabled must be a boolean; received "yes"/],
      [{ enrich: 'x' as never }, /options\.tracing\.enrich must be a function; received "x"/],
      [
        { attributeNamespace: 'Hangfire Jobs' },
        /options\.tracing\.attributeNamespace must be a lowercase dotted name .* received "Hangfire Jobs"/,
      ],
    ];
    for (const [tracing, message] of cases) {
      assert.throws(
        () => createWorker({ store, jobs: [], tracing }),
        (e: unknown) => e instanceof ValidationError && message.test(e.message),
      );
      assert.throws(
        () => createClient({ store, tracing }),
        (e: unknown) => e instanceof ValidationError && /createClient\(\) options\.tracing/.test(e.message),
      );
    }
    await assert.rejects(
      testClient(store).enqueue(job, { to: 'x' }, { parenting: 'up' as never }),
      /enqueue\(\) options\.parenting must be one of child, link, none; received "up"/,
    );
  });
});
