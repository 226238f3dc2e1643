/**
 * SIGTERM ends a worker that Prometheus is scraping: the application stops the worker and closes
 * the store, and the process exits on its own, while Prometheus still holds its keep-alive
 * connection to the metrics endpoint. Over the scrapes before, the worker writes nothing on stderr
 * (no "Accessing resource attributes before async attributes settled" at each scrape).
 *
 * Needs /usr/bin/prometheus, as prometheus.test.ts does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { startChild } from './helpers/child.ts';
import { freePort } from './helpers/free-port.ts';
import { pollUntil } from './helpers/poll.ts';
import { startPrometheus } from './helpers/prometheus.ts';

/** Scrapes (one a second) before SIGTERM, for stderr to have had every chance to show a warning per scrape. */
const SCRAPES = 4;
/** Far more than the worker needs to stop (it is idle); Kubernetes' default grace period is 30 s. */
const EXIT_TIMEOUT_MS = 5_000;

it('a worker handling SIGTERM exits while Prometheus scrapes it, and writes nothing on stderr at the scrapes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pilotlight-prometheus-shutdown-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`] });
  after(() => prometheus.close());
  const worker = startChild(
    'prometheus-worker.ts',
    {
      JOBS_DB: join(dir, 'jobs.db'),
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      OTEL_TRACES_EXPORTER: 'none',
    },
    ['--import', '@pilotlight/otel/register'],
  );
  after(() => worker.process.kill('SIGKILL'));
  await worker.waitFor(' started\n');
  const query = 'count_over_time(up{job="pilotlight"}[1m])';
  await pollUntil(`${SCRAPES} successful scrapes (${query}, up == 1)`, async () => {
    const [scrapes] = await prometheus.query(query);
    const [up] = await prometheus.query('up{job="pilotlight"}');
    const seen = `${scrapes?.value ?? 0} scrapes, up ${up?.value}`;
    return (scrapes?.value ?? 0) >= SCRAPES && up?.value === 1 ? { met: true, value: undefined } : { met: false, seen };
  });

  const signalled = performance.now();
  worker.process.kill('SIGTERM');
  const exited = await Promise.race([
    worker.done,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_TIMEOUT_MS).unref()),
  ]);
  assert.ok(exited !== undefined, `the worker process was still running ${EXIT_TIMEOUT_MS} ms after SIGTERM (Prometheus still connected)`);
  t.diagnostic(`exited ${(performance.now() - signalled).toFixed(0)} ms after SIGTERM`);
  assert.equal(exited.signal, null, 'the process ended on its own, not by the signal');
  assert.equal(exited.code, 0, exited.stderr);
  assert.equal(exited.stderr, '');
});
