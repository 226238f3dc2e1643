/**
 * A real Prometheus scrapes a real worker. The worker runs in a child process started as
 * `node --import @pilotlight/otel/register` with OTEL_METRICS_EXPORTER=prometheus, so @pilotlight/otel
 * serves its metrics on OTEL_EXPORTER_PROMETHEUS_HOST:PORT; Debian's Prometheus scrapes them every second;
 * PromQL over Prometheus's HTTP API then gives the processing rate and the queue depth, which are
 * checked against what the store (the same SQLite file, read from this process) says.
 *
 * Needs /usr/bin/prometheus (Debian's `prometheus` package; .ci/run installs it): without it the
 * test fails, it is never skipped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'pilotlight';
import { createSqliteStore, type SqliteStore } from 'pilotlight/sqlite';
import { BACKLOG_QUEUE, buildReport, JOB_MS, sendEmail, WORKED_QUEUE } from './fixtures/prometheus-jobs.ts';
import { startChild, type RunningChild } from './helpers/child.ts';
import { freePort } from './helpers/free-port.ts';
import { JobStream } from './helpers/job-stream.ts';
import { pollUntil } from './helpers/poll.ts';
import { startPrometheus, type PrometheusServer, type PromSample } from './helpers/prometheus.ts';

/** Jobs waiting in the queue no worker serves, before the worker starts; more are added later. */
const BACKLOG = 25;
const MORE_BACKLOG = 12;
/** The jobs of the first test, before the stream. */
const FIRST_JOBS = 5;
/** The rate window: five scrapes. */
const RATE_WINDOW_S = 5;
/** How far Prometheus's rate may be from the store's over the same window (it extrapolates its samples to the window's ends). */
const RATE_TOLERANCE = 0.25;
const WORKER_STOP_TIMEOUT_MS = 10_000;

const emails = `messaging_destination_name="${WORKED_QUEUE}"`;
const succeeded = `pilotlight_job_attempts_total{${emails},pilotlight_job_outcome="succeeded"}`;

describe('Prometheus scraping a worker started with --import @pilotlight/otel/register', () => {
  let dir: string;
  let store: SqliteStore;
  let client: Client;
  let metricsUrl: string;
  let worker: RunningChild | undefined;
  let prometheus: PrometheusServer | undefined;
  let stream: JobStream;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pilotlight-prometheus-test-'));
    const path = join(dir, 'jobs.db');
    store = createSqliteStore({ path });
    client = createClient({ store });
    stream = new JobStream({ client, job: sendEmail, queue: WORKED_QUEUE });
    await client.enqueueMany(buildReport, numbered(BACKLOG));

    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    // Prometheus first: it takes a few seconds to scrape a new target, while the worker starts.
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`] });
    worker = startChild(
      'prometheus-worker.ts',
      {
        JOBS_DB: path,
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_SERVICE_NAME: 'prometheus-test-worker',
      },
      ['--import', '@pilotlight/otel/register'],
    );
    await worker.waitFor(' started\n');
  });

  after(async () => {
    // Each step runs whatever the previous one did; Prometheus goes first, so that no scrape fails
    // while the worker stops.
    const steps = [
      () => stream?.stop(),
      () => prometheus?.close(),
      () => stopChild(worker),
      () => store?.close(),
      () => dir && rmSync(dir, { recursive: true, force: true }),
    ];
    const failures: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'cleaning up after the Prometheus test failed');
  });

  it('the worker serves its job metrics on OTEL_EXPORTER_PROMETHEUS_PORT, and Prometheus scrapes them', async () => {
    await client.enqueueMany(sendEmail, numbered(FIRST_JOBS));
    await pollUntil('the first jobs to succeed', async () => {
      const { Succeeded } = await client.countJobs({ queue: WORKED_QUEUE });
      return Succeeded === FIRST_JOBS ? { met: true, value: undefined } : { met: false, seen: `${Succeeded} succeeded` };
    });
    // The names PromQL uses: dots become underscores, counters get `_total` (no unit suffix).
    const text = await (await fetch(metricsUrl)).text();
    for (const [family, type] of [
      ['messaging_client_consumed_messages_total', 'counter'],
      ['pilotlight_job_attempts_total', 'counter'],
      ['messaging_process_duration', 'histogram'],
      ['pilotlight_jobs', 'gauge'],
      ['pilotlight_queue_lag', 'gauge'],
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${family} ${type}$`, 'm'), `${family} (${type}) in:\n${text}`);
    }
    assert.match(text, /^target_info\{.*service_name="prometheus-test-worker"/m);
    assert.match(
      text,
      line('pilotlight_jobs', [`messaging_destination_name="${BACKLOG_QUEUE}"`, 'pilotlight_job_state="Enqueued"'], BACKLOG),
    );
    assert.match(text, line('pilotlight_job_attempts_total', [emails, 'pilotlight_job_outcome="succeeded"'], FIRST_JOBS));

    const targets = await pollUntil('the worker to be scraped', async () => {
      const all = await prometheus!.targets();
      return all.some((target) => target.health === 'up') ? { met: true, value: all } : { met: false, seen: JSON.stringify(all) };
    });
    assert.deepEqual(
      targets.map((target) => [target.scrapeUrl, target.health]),
      [[metricsUrl, 'up']],
    );
  });

  it('PromQL gives the processing rate of a steady stream of jobs, as the store counts it', async (t) => {
    stream.start();
    const query = `sum(rate(${succeeded}[${RATE_WINDOW_S}s]))`;
    const { promRate, storeRate } = await pollUntil(
      `${query} to be > 0 and within ${RATE_TOLERANCE * 100} % of the store's rate`,
      async () => {
        const now = new Date();
        const promRate = single(await prometheus!.query(query, now));
        const storeRate = stream.storeRate(now.getTime() - RATE_WINDOW_S * 1000, now.getTime());
        const seen = `Prometheus ${promRate?.toFixed(2)}/s, store ${storeRate?.toFixed(2)}/s`;
        if (promRate === undefined || storeRate === undefined || !(promRate > 0)) return { met: false, seen };
        return Math.abs(promRate - storeRate) <= RATE_TOLERANCE * storeRate
          ? { met: true, value: { promRate, storeRate } }
          : { met: false, seen };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    t.diagnostic(`processing rate over ${RATE_WINDOW_S} s: Prometheus ${promRate.toFixed(2)}/s, store ${storeRate.toFixed(2)}/s`);
  });

  it('PromQL gives the queue depth the store counts, store-wide, and follows it', async () => {
    const depth = (samples: PromSample[]): number | undefined =>
      samples.find((sample) => sample.labels.messaging_destination_name === BACKLOG_QUEUE)?.value;
    // Every worker reports the store-wide gauge: `max by` counts each queue once however many workers.
    const query = 'max by (messaging_destination_name, pilotlight_job_state) (pilotlight_jobs{pilotlight_job_state="Enqueued"})';
    for (const added of [0, MORE_BACKLOG]) {
      await client.enqueueMany(buildReport, numbered(added));
      const { Enqueued: waiting } = await client.countJobs({ queue: BACKLOG_QUEUE });
      assert.equal(waiting, BACKLOG + added, 'no worker serves the backlog queue');
      await pollUntil(`${query} to be ${waiting} for ${BACKLOG_QUEUE}`, async () => {
        const seen = depth(await prometheus!.query(query));
        return seen === waiting ? { met: true, value: undefined } : { met: false, seen: String(seen) };
      });
    }
  });

  it('once the stream ends and the worker is idle, the totals in Prometheus are the store’s, job for job', async () => {
    await stream.stop();
    const total = FIRST_JOBS + stream.enqueued;
    await pollUntil('the worker to finish the stream', async () => {
      const counts = await client.countJobs({ queue: WORKED_QUEUE });
      return counts.Succeeded === total ? { met: true, value: undefined } : { met: false, seen: JSON.stringify(counts) };
    });
    const queries = {
      succeeded: `sum(${succeeded})`,
      consumed: `sum(messaging_client_consumed_messages_total{${emails}})`,
      durations: `sum(messaging_process_duration_count{${emails}})`,
      waiting: `max(pilotlight_jobs{${emails},pilotlight_job_state="Enqueued"})`,
    };
    const expected = { succeeded: total, consumed: total, durations: total, waiting: 0 };
    await pollUntil(`Prometheus's totals to be ${JSON.stringify(expected)}`, async () => {
      const seen = Object.fromEntries(
        await Promise.all(Object.entries(queries).map(async ([key, promql]) => [key, single(await prometheus!.query(promql))])),
      );
      const met = Object.entries(expected).every(([key, value]) => seen[key] === value);
      return met ? { met: true, value: undefined } : { met: false, seen: JSON.stringify(seen) };
    });
    const meanDuration = single(await prometheus!.query(`sum(messaging_process_duration_sum{${emails}}) / ${queries.durations}`));
    assert.ok(
      meanDuration !== undefined && meanDuration >= (JOB_MS / 1000) * 0.9,
      `mean attempt duration ${meanDuration} s, each sleeps ${JOB_MS} ms`,
    );
  });
});

/** `count` argument objects `{ n }`. */
function numbered(count: number): { n: number }[] {
  return Array.from({ length: count }, (_, n) => ({ n }));
}

/** The value of a query that returns one series (a `sum`, a `max`), or undefined when it returns none. */
function single(samples: PromSample[]): number | undefined {
  assert.ok(samples.length <= 1, `one series expected: ${JSON.stringify(samples)}`);
  return samples[0]?.value;
}

/** A line of the text format: `family{…labels…} value`, the labels in any order among others. */
function line(family: string, labels: readonly string[], value: number): RegExp {
  const escaped = labels.map((label) => `(?=[^}]*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`).join('');
  return new RegExp(`^${family}\\{${escaped}[^}]*\\} ${value}$`, 'm');
}

/** SIGTERM, then SIGKILL if the worker has not exited within 10 s; resolves once it has. */
async function stopChild(child: RunningChild | undefined): Promise<void> {
  if (child === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), WORKER_STOP_TIMEOUT_MS);
  try {
    await child.done;
  } finally {
    clearTimeout(timer);
  }
}
