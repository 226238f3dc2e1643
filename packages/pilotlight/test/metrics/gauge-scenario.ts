/**
 * The store-wide gauges and the slot gauges over one scenario, on whichever store is given: the
 * SQLite tests run it on a temporary file, @pilotlight/postgres's on a schema of their own.
 */
import assert from 'node:assert/strict';
import { createClient, defineJob, silentLogger, type JobContext, type Store } from '../../src/index.ts';
import { MetricAttributes as S, MetricNames } from '../../src/semconv.ts';
import { testWorker, waitFor } from '../support/helpers.ts';
import { key, testMeterProvider, values, type TestReader } from './support.ts';

const jobs = (queue: string, state: string) => key({ [S.destinationName]: queue, [S.state]: state });
const queue = (name: string) => key({ [S.destinationName]: name });
const none = key({});

/** Until `check` holds for the metrics collected (the store gauges reuse a read for a second). */
async function until(reader: TestReader, what: string, check: (metrics: Map<string, Map<string, number>>) => boolean): Promise<void> {
  await waitFor(
    async () => {
      const collected = await reader.pilotlight();
      const byName = new Map([...collected].map(([name, metric]) => [name, values(metric)]));
      return check(byName);
    },
    what,
    15_000,
    50,
  );
}

export async function storeGaugesScenario(store: Store<unknown>): Promise<void> {
  const { provider, readers } = testMeterProvider();
  const reader = readers[0]!;
  const metrics = { meterProvider: provider };
  // Deleted jobs expire at once, so a queue whose jobs are all deleted leaves queueStats().
  const client = createClient({ store: store as Store, logger: silentLogger, metrics, retention: { deleted: 0 } });
  const release = new Set<() => void>();
  const hang = defineJob('gauges.hang', (_: number, ctx: JobContext) => {
    return new Promise<void>((resolve, reject) => {
      release.add(resolve);
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    });
  });

  const enqueuedAt = Date.now();
  const waiting = [await client.enqueue(hang, 1, { queue: 'waiting' }), await client.enqueue(hang, 2, { queue: 'waiting' })];
  await client.schedule(hang, 3, { delay: 3_600_000 });
  await client.continueWith(waiting[0]!, hang, 4);
  await Promise.all([5, 6].map((n) => client.enqueue(hang, n)));

  const workers = [
    testWorker({ store: store as Store, jobs: [hang], concurrency: 3, metrics, maintenanceInterval: 50 }),
    testWorker({ store: store as Store, jobs: [hang], queues: ['nothing-here'], concurrency: 2, metrics }),
  ];
  for (const worker of workers) await worker.start();
  await waitFor(() => release.size === 2, 'both default jobs to run');

  await until(reader, 'the gauges to show both running jobs', (m) => m.get(MetricNames.jobs)?.get(jobs('default', 'Processing')) === 2);
  const collected = await reader.pilotlight();
  const gauges = values(collected.get(MetricNames.jobs));
  assert.deepEqual(
    new Map([...gauges].filter(([, n]) => n !== 0)),
    new Map([
      [jobs('waiting', 'Enqueued'), 2],
      [jobs('default', 'Scheduled'), 1],
      [jobs('default', 'Awaiting'), 1],
      [jobs('default', 'Processing'), 2],
    ]),
  );
  assert.equal(gauges.size, 8, 'every unfinished state of both queues is reported, 0 included');
  const lag = values(collected.get(MetricNames.queueLag));
  assert.equal(lag.get(queue('default')), 0, 'nothing waits in the default queue');
  const waited = (Date.now() - enqueuedAt) / 1000;
  assert.ok(
    lag.get(queue('waiting'))! > 0 && lag.get(queue('waiting'))! <= waited,
    `lag ${lag.get(queue('waiting'))} s, at most ${waited} s`,
  );
  assert.equal(values(collected.get(MetricNames.workersAlive)).get(none), 2);
  assert.equal(values(collected.get(MetricNames.workerBusy)).get(none), 2);
  assert.equal(values(collected.get(MetricNames.workerCapacity)).get(none), 5);

  // The running jobs finish: Processing drops to 0, and so do the busy slots.
  for (const resolve of release) resolve();
  await until(
    reader,
    'the running jobs to be gone from the gauges',
    (m) => m.get(MetricNames.jobs)?.get(jobs('default', 'Processing')) === 0 && m.get(MetricNames.workerBusy)?.get(none) === 0,
  );

  // Every job of the waiting queue is deleted, and expires: the queue leaves queueStats() and its series drop to 0.
  for (const id of waiting) await client.delete(id);
  await waitFor(async () => !(await store.queueStats()).some((stats) => stats.queue === 'waiting'), 'the waiting queue to empty');
  await until(reader, 'the emptied queue to be reported at 0', (m) => m.get(MetricNames.jobs)?.get(jobs('waiting', 'Enqueued')) === 0);
  const emptied = await reader.pilotlight();
  for (const state of ['Enqueued', 'Scheduled', 'Awaiting', 'Processing']) {
    assert.equal(values(emptied.get(MetricNames.jobs)).get(jobs('waiting', state)), 0, `waiting ${state}`);
  }
  assert.equal(values(emptied.get(MetricNames.queueLag)).get(queue('waiting')), 0);
  // The continuation went with its deleted parent; the delayed job is still there.
  assert.equal(values(emptied.get(MetricNames.jobs)).get(jobs('default', 'Awaiting')), 0);
  assert.equal(values(emptied.get(MetricNames.jobs)).get(jobs('default', 'Scheduled')), 1);

  // A worker stops: its slots leave at once, its server record with the next store read.
  await workers[1]!.stop();
  assert.equal(values((await reader.pilotlight()).get(MetricNames.workerCapacity)).get(none), 3);
  await until(reader, 'one worker left alive', (m) => m.get(MetricNames.workersAlive)?.get(none) === 1);
  await workers[0]!.stop();
  const stopped = await reader.pilotlight();
  assert.equal(values(stopped.get(MetricNames.workerCapacity)).get(none), 0, 'no slot left in this process');
  assert.equal(values(stopped.get(MetricNames.workerBusy)).get(none), 0);
}
