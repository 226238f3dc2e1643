/**
 * A Prometheus server of the test's own: Debian's `/usr/bin/prometheus`, with its configuration and
 * its TSDB in a temporary directory, listening on a port of 127.0.0.1 that the OS picks, scraping
 * the given targets every second. `query()` runs PromQL through the HTTP API (`/api/v1/query`).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from './poll.ts';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** How long Prometheus gets to start (open its TSDB, listen, become ready) and to stop on SIGTERM. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface PrometheusOptions {
  /** `host:port` of each endpoint to scrape (at `/metrics`). */
  readonly targets: readonly string[];
  /** @default 'pilotlight' */
  readonly jobName?: string;
}

/** One series of an instant vector. */
export interface PromSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ScrapeTarget {
  readonly scrapeUrl: string;
  readonly health: string;
  readonly lastError: string;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** An instant query, evaluated at `time` (default: Prometheus's now); the result must be a vector. */
  query(promql: string, time?: Date): Promise<PromSample[]>;
  /** The scrape targets, with the health of their last scrape. */
  targets(): Promise<ScrapeTarget[]>;
  /** What Prometheus has logged so far (its stderr), for failure messages. */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its directory. Safe to call twice. */
  close(): Promise<void>;
}

interface ApiResponse<T> {
  readonly status: 'success' | 'error';
  readonly data?: T;
  readonly errorType?: string;
  readonly error?: string;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS_BINARY)) {
    throw new Error(
      `${PROMETHEUS_BINARY} is missing: install Debian's Prometheus (apt-get install --no-install-recommends prometheus; .ci/run does it on CI)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'pilotlight-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config(options));
  const server = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      // Port 0: the OS picks a free port, which Prometheus logs ("Listening on" address=…).
      '--web.listen-address=127.0.0.1:0',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const exited = once(server, 'exit');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })());

  try {
    const exitedEarly = exited.then(([code, signal]) => {
      throw new Error(`Prometheus exited (${String(code ?? signal)}) before it was ready`);
    });
    exitedEarly.catch(() => undefined); // once ready, its exit at close() is no failure
    const listening = pollUntil(
      'Prometheus to listen and be ready',
      async () => {
        const address = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(log)?.[1];
        if (address === undefined) return { met: false, seen: 'no "Listening on" line yet' };
        const ready = await fetch(`http://${address}/-/ready`);
        await ready.body?.cancel();
        return ready.ok ? { met: true, value: `http://${address}` } : { met: false, seen: `/-/ready answered ${ready.status}` };
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100 },
    );
    const url = await Promise.race([listening, exitedEarly]).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nPrometheus log:\n${log}`);
    });

    const api = async <T>(path: string, params: Record<string, string> = {}): Promise<T> => {
      const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
      const body = (await response.json()) as ApiResponse<T>;
      if (body.status !== 'success' || body.data === undefined) {
        throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.errorType ?? response.status}: ${body.error ?? 'no data'}`);
      }
      return body.data;
    };

    return {
      url,
      async query(promql, time) {
        const params: Record<string, string> = { query: promql };
        if (time !== undefined) params.time = String(time.getTime() / 1000);
        const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(
          '/api/v1/query',
          params,
        );
        if (data.resultType !== 'vector')
          throw new Error(`${promql}: expected an instant vector; Prometheus returned a ${data.resultType}`);
        return data.result.map(({ metric, value }) => ({ labels: metric, value: Number(value[1]) }));
      },
      async targets() {
        const data = await api<{ activeTargets: ScrapeTarget[] }>('/api/v1/targets');
        return data.activeTargets.map(({ scrapeUrl, health, lastError }) => ({ scrapeUrl, health, lastError }));
      },
      log: () => log,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The configuration file: one scrape job, every second (the default is a minute). */
function config({ targets, jobName = 'pilotlight' }: PrometheusOptions): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(jobName)}`,
    '    static_configs:',
    `      - targets: ${JSON.stringify(targets)}`,
    '',
  ].join('\n');
}
