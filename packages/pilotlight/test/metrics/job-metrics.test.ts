import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { createClient, defineJob, silentLogger, type JobContext } from '../../src/index.ts';
import { AttemptOutcomes, DURATION_BUCKETS_SECONDS, MetricAttributes, MetricNames } from '../../src/semconv.ts';
import { tempStore, testWorker, waitFor, waitForState, wrapStore } from '../support/helpers.ts';
import { counts, expected, histograms, key, testMeterProvider, values } from './support.ts';

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

/** Resolves when the attempt's signal aborts, rejecting with its reason. */
function untilAborted(ctx: JobContext): Promise<never> {
  return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
}

const started = new Set<string>();
const ok = defineJob('ok', (_: number) => undefined);
const flaky = defineJob(
  'flaky',
  (_: number) => {
    throw new PaymentDeclined('card declined');
  },
  { retry: { attempts: 2, backoff: 0 } },
);
const slow = defineJob('slow', (_: number, ctx) => untilAborted(ctx), { timeout: 50, retry: { attempts: 1 } });
const hang = defineJob('hang', (_: number, ctx) => {
  started.add(ctx.jobId);
  return untilAborted(ctx);
});
const tick = defineJob('tick', (_: string) => undefined);

const S = MetricAttributes;
const system = { [S.system]: 'pilotlight' };
const sent = (operation: string, queue: string, type: string) => ({
  ...system,
  [S.operationName]: operation,
  [S.destinationName]: queue,
  [S.jobType]: type,
});
const processed = (queue: string, type: string, errorType?: string) => ({
  ...sent('process', queue, type),
  ...(errorType !== undefined && { [S.errorType]: errorType }),
});
const outcome = (type: string, result: string, errorType?: string) => ({
  [S.destinationName]: 'default',
  [S.jobType]: type,
  [S.outcome]: result,
  ...(errorType !== undefined && { [S.errorType]: errorType }),
});
const jobs = (queue: string, state: string) => ({ [S.destinationName]: queue, [S.state]: state });

/** How the SDK exports each kind: Counter, (Observable)UpDownCounter, ObservableGauge, Histogram. */
const KINDS = {
  counter: { dataPointType: DataPointType.SUM, isMonotonic: true },
  upDownCounter: { dataPointType: DataPointType.SUM, isMonotonic: false },
  gauge: { dataPointType: DataPointType.GAUGE },
  histogram: { dataPointType: DataPointType.HISTOGRAM },
} as const;

/** Every instrument of the job metrics, with its kind and unit. */
const INSTRUMENTS: readonly [string, keyof typeof KINDS, string][] = [
  [MetricNames.sentMessages, 'counter', '{message}'],
  [MetricNames.consumedMessages, 'counter', '{message}'],
  [MetricNames.processDuration, 'histogram', 's'],
  [MetricNames.operationDuration, 'histogram', 's'],
  [MetricNames.queueWait, 'histogram', 's'],
  [MetricNames.attemptOutcomes, 'counter', '{attempt}'],
  [MetricNames.recurringLateness, 'histogram', 's'],
  [MetricNames.workerBusy, 'upDownCounter', '{slot}'],
  [MetricNames.workerCapacity, 'upDownCounter', '{slot}'],
  [MetricNames.jobs, 'upDownCounter', '{job}'],
  [MetricNames.queueLag, 'gauge', 's'],
  [MetricNames.workersAlive, 'upDownCounter', '{worker}'],
];

describe('job metrics, over a scripted run on SQLite', () => {
  it('records every instrument with exact attribute sets and values', async () => {
    const { provider, readers } = testMeterProvider();
    const reader = readers[0]!;
    const realStore = tempStore();
    let claims = 0;
    // The first claim fails, as a database restarting would: its round trip is recorded with error.type.
    const store = wrapStore(realStore, {
      claimJobs: (request) => (claims++ === 0 ? Promise.reject(new Error('database restarting')) : realStore.claimJobs(request)),
    });
    const metrics = { meterProvider: provider };
    const client = createClient({ store, logger: silentLogger, metrics });

    // Waiting: in a queue no worker reads; one enqueued twice with a dedup key (the second creates nothing).
    const parent = await client.enqueue(ok, 1, { queue: 'other' });
    await client.enqueue(ok, 2, { queue: 'other', dedupKey: 'once' });
    await client.enqueue(ok, 3, { queue: 'other', dedupKey: 'once' });
    // Delayed, and a continuation of a job that never runs.
    await client.schedule(ok, 4, { delay: 3_600_000 });
    await client.continueWith(parent, ok, 5);
    // A recurring occurrence due 2 s ago, on a yearly schedule: it fires exactly once.
    await client.recurring.addOrUpdate('nightly', '0 0 1 1 *', tick, 'x');
    const dueAt = new Date(Date.now() - 2_000);
    await realStore.upsertRecurring({ ...(await client.recurring.get('nightly'))!, nextRunAt: dueAt });

    const ids = {
      ok: await Promise.all([10, 11, 12].map((n) => client.enqueue(ok, n))),
      flaky: await client.enqueue(flaky, 1),
      slow: await client.enqueue(slow, 1),
      hang: await client.enqueue(hang, 1),
    };
    const worker = testWorker({ store, jobs: [ok, flaky, slow, hang, tick], concurrency: 4, metrics });
    await worker.start();

    await Promise.all(ids.ok.map((id) => waitForState(client, id, 'Succeeded')));
    await waitForState(client, ids.flaky, 'Failed');
    await waitForState(client, ids.slow, 'Failed');
    await waitFor(() => started.has(ids.hang), 'the hanging job to start');
    await client.delete(ids.hang);
    const [occurrence] = await waitFor(async () => {
      const found = await client.listJobs({ type: 'tick', state: 'Succeeded' });
      return found.length > 0 ? found : undefined;
    }, 'the recurring occurrence to run');
    // Every attempt has ended (its outcome recorded) once nothing runs.
    await waitFor(async () => (await client.countJobs()).Processing === 0 && worker.stats.running === 0, 'no job running');
    await waitFor(async () => {
      const outcomes = values((await reader.pilotlight()).get(MetricNames.attemptOutcomes));
      return [...outcomes.values()].reduce((sum, n) => sum + n, 0) === 8;
    }, 'eight attempts to have ended');

    const metricsByName = await reader.pilotlight();
    const metric = (name: string): MetricData => {
      const found = metricsByName.get(name);
      assert.ok(found, `${name} is reported`);
      return found;
    };

    for (const [name, kind, unit] of INSTRUMENTS) {
      const found = metric(name);
      const { dataPointType, ...monotonic } = KINDS[kind];
      assert.equal(found.dataPointType, dataPointType, `${name} kind`);
      if ('isMonotonic' in monotonic) assert.equal('isMonotonic' in found && found.isMonotonic, monotonic.isMonotonic, `${name} monotonic`);
      assert.equal(found.descriptor.unit, unit, `${name} unit`);
      assert.ok(found.descriptor.description.length > 10, `${name} has a description`);
      for (const histogram of histograms(kind === 'histogram' ? found : undefined).values()) {
        assert.deepEqual(histogram.buckets.boundaries, DURATION_BUCKETS_SECONDS, `${name} buckets`);
      }
    }
    assert.deepEqual(
      [...metricsByName.keys()].filter((name) => !name.startsWith('pilotlight.task')).sort(),
      INSTRUMENTS.map(([name]) => name).sort(),
      'no other instrument',
    );

    assert.deepEqual(
      values(metric(MetricNames.sentMessages)),
      expected([
        [sent('enqueue', 'other', 'ok'), 2],
        [sent('schedule', 'default', 'ok'), 1],
        [sent('continue', 'default', 'ok'), 1],
        [sent('enqueue', 'default', 'ok'), 3],
        [sent('enqueue', 'default', 'flaky'), 1],
        [sent('enqueue', 'default', 'slow'), 1],
        [sent('enqueue', 'default', 'hang'), 1],
        [sent('enqueue', 'default', 'tick'), 1],
      ]),
    );
    const attemptsPerType = [
      [processed('default', 'ok'), 3],
      [processed('default', 'flaky'), 2],
      [processed('default', 'slow'), 1],
      [processed('default', 'hang'), 1],
      [processed('default', 'tick'), 1],
    ] as const;
    assert.deepEqual(values(metric(MetricNames.consumedMessages)), expected(attemptsPerType));
    assert.deepEqual(
      counts(metric(MetricNames.processDuration)),
      expected([
        [processed('default', 'ok'), 3],
        [processed('default', 'tick'), 1],
        [processed('default', 'flaky', 'PaymentDeclined'), 2],
        [processed('default', 'slow', 'JobTimeoutError'), 1],
        [processed('default', 'hang', 'cancelled'), 1],
      ]),
    );
    // The timed-out attempt ran its 50 ms at least.
    const timedOut = histograms(metric(MetricNames.processDuration));
    assert.ok([...timedOut].some(([attributes, h]) => attributes.includes('JobTimeoutError') && h.sum! >= 0.05));
    assert.deepEqual(
      counts(metric(MetricNames.queueWait)),
      expected(attemptsPerType.map(([attributes, n]) => [{ [S.destinationName]: 'default', [S.jobType]: attributes[S.jobType] }, n])),
    );
    assert.deepEqual(
      values(metric(MetricNames.attemptOutcomes)),
      expected([
        [outcome('ok', AttemptOutcomes.succeeded), 3],
        [outcome('tick', AttemptOutcomes.succeeded), 1],
        [outcome('flaky', AttemptOutcomes.retried, 'PaymentDeclined'), 1],
        [outcome('flaky', AttemptOutcomes.failed, 'PaymentDeclined'), 1],
        [outcome('slow', AttemptOutcomes.timedOut, 'JobTimeoutError'), 1],
        [outcome('hang', AttemptOutcomes.cancelled, 'cancelled'), 1],
      ]),
    );

    const operations = counts(metric(MetricNames.operationDuration));
    const claim = { ...system, [S.operationName]: 'claim', [S.operationType]: 'receive' };
    const commit = { ...system, [S.operationName]: 'commit', [S.operationType]: 'settle' };
    const failedClaim = { ...claim, [S.errorType]: 'Error' };
    assert.deepEqual([...operations.keys()].sort(), [claim, failedClaim, commit].map(key).sort());
    assert.equal(operations.get(key(failedClaim)), 1);
    assert.ok(operations.get(key(claim))! >= 1);
    // Every attempt's outcome went through a commit (several share one when they end together).
    assert.ok(operations.get(key(commit))! >= 1);

    const lateness = histograms(metric(MetricNames.recurringLateness));
    assert.deepEqual([...lateness.keys()], [key({ [S.recurringId]: 'nightly', [S.destinationName]: 'default' })]);
    const [fired] = lateness.values();
    assert.equal(fired!.count, 1);
    const late = fired!.sum!;
    assert.ok(late >= 2 && late < 30, `fired ${late} s after its time`);
    assert.equal(occurrence!.recurringId, 'nightly');

    assert.deepEqual(
      values(metric(MetricNames.jobs)),
      expected([
        [jobs('other', 'Enqueued'), 2],
        [jobs('other', 'Scheduled'), 0],
        [jobs('other', 'Awaiting'), 0],
        [jobs('other', 'Processing'), 0],
        [jobs('default', 'Enqueued'), 0],
        [jobs('default', 'Scheduled'), 1],
        [jobs('default', 'Awaiting'), 1],
        [jobs('default', 'Processing'), 0],
      ]),
    );
    const lag = values(metric(MetricNames.queueLag));
    const queue = (name: string) => key({ [S.destinationName]: name });
    assert.deepEqual([...lag.keys()].sort(), [queue('default'), queue('other')].sort());
    assert.equal(lag.get(queue('default')), 0);
    assert.ok(lag.get(queue('other'))! > 0, 'the waiting queue lags');
    assert.deepEqual(values(metric(MetricNames.workersAlive)), expected([[{}, 1]]));
    assert.deepEqual(values(metric(MetricNames.workerBusy)), expected([[{}, 0]]));
    assert.deepEqual(values(metric(MetricNames.workerCapacity)), expected([[{}, 4]]));

    // Low cardinality: no job id in any attribute set of any instrument, only the documented keys.
    const jobIds = new Set((await client.listJobs({ limit: 1_000 })).map((job) => job.id));
    const keys = new Set<string>(Object.values(MetricAttributes));
    for (const { descriptor, dataPoints } of metricsByName.values()) {
      for (const point of dataPoints) {
        for (const [attribute, value] of Object.entries(point.attributes)) {
          assert.ok(keys.has(attribute), `${descriptor.name} has the attribute ${attribute}`);
          assert.ok(!jobIds.has(String(value)), `${descriptor.name}: ${attribute} = ${String(value)} is a job id`);
        }
      }
    }
  });
});
