/**
 * The span ingest on a real SQLite trace store (behind a gate where a test needs writes held):
 * acknowledged only once durable, group commit of the requests waiting, the pending bound answered
 * `busy`, write failures rejected and logged once per burst, retention through the same serial
 * writer, close() finishing what is pending.
 */
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ErrorCodes, PilotlightError, silentLogger } from 'pilotlight';
import { TRACE_LIMITS } from '../../src/config/defaults.ts';
import { createSpanIngest, type IngestLimits, type SpanIngestOptions } from '../../src/traces/ingest/span-ingest.ts';
import { waitFor } from '../../../pilotlight/test/support/helpers.ts';
import { makeSpan } from './support/span-builder.ts';
import { gatedStore, recordingLogger, tempTraceStore, wrapTraceStore } from './support/receiving.ts';

const RETENTION = { maxAgeMs: 365 * 24 * 3_600_000 * 50, maxSpans: 1_000_000 };
const LIMITS: IngestLimits = { maxPendingSpans: 10, maxWriteBatchSpans: 4, pruneIntervalMs: 3_600_000 };

/** `n` root spans. */
function spans(n: number) {
  return Array.from({ length: n }, () => makeSpan());
}

/** Whether `promise` has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await tick();
  await tick();
  return done;
}

async function setup(options: Partial<SpanIngestOptions> = {}) {
  const real = await tempTraceStore();
  const gated = gatedStore(real);
  // The start-up prune is let through first, so that the writes the tests hold are the only work.
  const ingest = createSpanIngest({ store: gated.store, retention: RETENTION, logger: silentLogger, limits: LIMITS, ...options });
  await waitFor(() => gated.prunes === 1 && gated.active === 0, 'the start-up prune');
  return { real, gated, ingest };
}

describe('span ingest', () => {
  it('resolves a submit only once its spans are durable, and writes the requests waiting meanwhile in one transaction', async () => {
    const { real, gated, ingest } = await setup();
    gated.shut();
    const first = ingest.submit(spans(1));
    await waitFor(() => gated.writes.length === 1, 'the first write');
    const waiting = [ingest.submit(spans(1)), ingest.submit(spans(2)), ingest.submit(spans(1))];
    assert.equal(await settled(first), false, 'not acknowledged while its write has not committed');
    assert.equal(await real.countSpans(), 0);
    gated.open();
    assert.equal(await first, 'stored');
    assert.deepEqual(await Promise.all(waiting), ['stored', 'stored', 'stored']);
    assert.deepEqual(gated.writes, [1, 4], 'the three requests that waited: one write');
    assert.equal(await real.countSpans(), 5);
    await ingest.close();
  });

  it('writes at most maxWriteBatchSpans spans a transaction: a larger request is split, and acknowledged once all of it is written', async () => {
    const { real, gated, ingest } = await setup();
    assert.equal(await ingest.submit(spans(9)), 'stored');
    assert.deepEqual(gated.writes, [4, 4, 1]);
    assert.equal(await real.countSpans(), 9);
    await ingest.close();
  });

  it('answers busy at once, keeping nothing, when the spans pending would exceed maxPendingSpans; takes spans again once written', async () => {
    const { real, gated, ingest } = await setup();
    gated.shut();
    const writing = ingest.submit(spans(6));
    const waiting = ingest.submit(spans(4)); // 10 pending: the bound, not beyond it
    assert.equal(await ingest.submit(spans(1)), 'busy');
    gated.open();
    assert.deepEqual(await Promise.all([writing, waiting]), ['stored', 'stored']);
    assert.equal(await real.countSpans(), 10, 'nothing of the refused request');
    assert.equal(await ingest.submit(spans(1)), 'stored');
    // A request larger than the bound on its own is taken when nothing is pending, or it never would be.
    assert.equal(await ingest.submit(spans(11)), 'stored');
    assert.equal(await real.countSpans(), 22);
    await ingest.close();
  });

  it('rejects every request of a failed write with its error, logs the failure once for the burst, and says when writes succeed again', async () => {
    const log = recordingLogger();
    const { real, gated, ingest } = await setup({ logger: log.logger });
    gated.failure = new Error('disk I/O error');
    gated.shut();
    const failing = [ingest.submit(spans(1)), ingest.submit(spans(1)), ingest.submit(spans(2))];
    gated.open();
    for (const submission of failing) await assert.rejects(submission, /disk I\/O error/);
    await assert.rejects(ingest.submit(spans(1)), /disk I\/O error/);
    assert.equal(log.errors().length, 1, 'one error for the whole burst');
    assert.match(log.errors()[0]!.message, /writing received spans to the trace store failed; OTLP exports are answered 503/);
    assert.equal(log.errors()[0]!.details?.error, gated.failure);
    gated.failure = undefined;
    assert.equal(await ingest.submit(spans(1)), 'stored');
    assert.deepEqual(
      log.lines.filter((line) => line.level === 'info').map((line) => line.message),
      ['dashboard: the trace store takes spans again'],
    );
    gated.failure = new Error('disk full');
    await assert.rejects(ingest.submit(spans(1)), /disk full/);
    assert.equal(log.errors().length, 2, 'a new burst is logged again');
    assert.equal(await real.countSpans(), 1, 'only the acknowledged span');
    await ingest.close();
  });

  it('a request whose spans the store refuses fails alone: the requests grouped with it are written each on its own', async () => {
    const { real, gated, ingest } = await setup();
    // A store that refuses one request's content (as PostgreSQL refused text it cannot hold) and takes the rest.
    const refusing = wrapTraceStore(gated.store, {
      write: (batch) =>
        batch.some((span) => span.name === 'poison') ? Promise.reject(new Error('invalid input')) : gated.store.write(batch),
    });
    const ingestOfRefusing = createSpanIngest({ store: refusing, retention: RETENTION, logger: silentLogger, limits: LIMITS });
    await waitFor(() => gated.prunes === 2 && gated.active === 0, "the second ingest's start-up prune");
    await ingest.close();
    gated.shut();
    const first = ingestOfRefusing.submit(spans(1));
    await waitFor(() => gated.writes.length === 1, 'the first write');
    const grouped = [
      ingestOfRefusing.submit(spans(1)),
      ingestOfRefusing.submit([makeSpan({ name: 'poison' })]),
      ingestOfRefusing.submit(spans(2)),
    ];
    gated.open();
    assert.equal(await first, 'stored');
    const outcomes = await Promise.allSettled(grouped);
    assert.deepEqual(
      outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message)),
      ['stored', 'invalid input', 'stored'],
    );
    assert.deepEqual(gated.writes, [1, 1, 2], 'the group failed whole, then its requests were written one by one');
    assert.equal(await real.countSpans(), 4);
    await ingestOfRefusing.close();
  });

  it('close() writes what is pending, then rejects new spans with StoreClosedError', async () => {
    const { real, gated, ingest } = await setup();
    gated.shut();
    const submitted = [ingest.submit(spans(2)), ingest.submit(spans(3))];
    const closing = ingest.close();
    assert.equal(await settled(closing), false, 'close waits for the pending writes');
    gated.open();
    await closing;
    assert.deepEqual(await Promise.all(submitted), ['stored', 'stored']);
    assert.equal(await real.countSpans(), 5);
    await assert.rejects(ingest.submit(spans(1)), (error: unknown) => {
      assert.ok(error instanceof PilotlightError);
      assert.equal(error.code, ErrorCodes.STORE_CLOSED);
      return true;
    });
    await ingest.close(); // idempotent
  });

  it('prunes at start and every pruneIntervalMs through the writer: never at the same time as a write', async () => {
    const real = await tempTraceStore();
    const gated = gatedStore(real);
    const ingest = createSpanIngest({
      store: gated.store,
      retention: RETENTION,
      logger: silentLogger,
      limits: { ...TRACE_LIMITS, pruneIntervalMs: 2 },
    });
    const submissions = Array.from({ length: 200 }, () => ingest.submit(spans(3)));
    await Promise.all(submissions);
    await waitFor(() => gated.prunes >= 5, 'several prunes');
    assert.equal(gated.maxActive, 1, 'a prune and a write never ran at once');
    assert.equal(await real.countSpans(), 600);
    await ingest.close();
    const prunes = gated.prunes;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(gated.prunes, prunes, 'no prune after close(): the timer is cleared');
  });

  it('a failing prune is logged, never thrown, and the ingest goes on', async () => {
    const log = recordingLogger();
    const real = await tempTraceStore();
    const store = wrapTraceStore(real, { prune: () => Promise.reject(new Error('database is locked')) });
    const ingest = createSpanIngest({ store, retention: RETENTION, logger: log.logger, limits: LIMITS });
    assert.equal(await ingest.submit(spans(2)), 'stored');
    await waitFor(() => log.errors().length === 1, 'the prune failure logged');
    assert.match(log.errors()[0]!.message, /deleting old spans from the trace store failed \(retention\)/);
    assert.equal(await real.countSpans(), 2);
    await ingest.close();
  });
});
