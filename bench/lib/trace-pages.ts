import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDashboard, createPostgresTraceStore, createSqliteTraceStore, type TraceStore } from '../../packages/dashboard/src/index.ts';
import type { Store } from '../../packages/pilotlight/src/store-kit.ts';
import { createSqliteStore } from '../../packages/pilotlight/src/sqlite.ts';
import { silentLogger } from '../../packages/pilotlight/src/index.ts';
import { createPostgresStore } from '../../packages/postgres/src/index.ts';
import { formatInt } from './format.ts';
import { progress } from './trace-ingest.ts';
import { isJobTrace, jobTypeOf, seedTraces, spansPerTrace, traceparentOf } from './trace-seed.ts';
import { traceIdOf } from './trace-span-builder.ts';
import { connectionString, onPostgres } from './bench-postgres.ts';
import { isSeeded, markSeeded } from './dashboard-seed.ts';
import type { TraceStoreKind } from './trace-stores.ts';

/**
 * The traces bench's third part: the trace pages' server time with a million spans stored. The
 * seeded stores are kept between runs (SQLite: files in the temporary folder; PostgreSQL: schema
 * pilotlight_bench_traces_<spans>, jobs and traces side by side as a deployment has them).
 */

export const PAGE_TARGET_MS = 50;
/** Jobs in the job store whose traceparent points at a seeded job trace. */
const LINKED_JOBS = 500;
const WARMUP_REQUESTS = 10;
/** Marks a job store whose seeding finished (a crashed seeding is seeded again from nothing). */
const SEEDED_MARK = 'bench-traces-seeded';

export interface PageResult {
  readonly label: string;
  /** Targeted (p95 <= 50 ms) or only reported. */
  readonly targeted: boolean;
  readonly times: readonly number[];
  /** Bytes of the last answer. */
  readonly bytes: number;
}

export interface PagesResult {
  readonly spans: number;
  readonly traces: number;
  readonly pages: readonly PageResult[];
  /** How the stores were seeded (or that they were reused). */
  readonly seeded: string;
}

interface Stores {
  readonly jobs: Store;
  readonly traces: TraceStore;
  close(): Promise<void>;
  wipe(): Promise<void>;
  /** PostgreSQL: VACUUM ANALYZE the tables (see `settle`). */
  settle(): Promise<void>;
}

async function openStores(kind: TraceStoreKind, spans: number): Promise<Stores> {
  if (kind === 'sqlite') {
    const tracePath = join(tmpdir(), `pilotlight-bench-traces-${spans}.db`);
    const jobPath = join(tmpdir(), `pilotlight-bench-traces-${spans}-jobs.db`);
    const jobs = createSqliteStore({ path: jobPath });
    const traces = createSqliteTraceStore({ path: tracePath });
    const close = async () => {
      await traces.close();
      await jobs.close();
    };
    return {
      jobs,
      traces,
      close,
      async wipe() {
        await close();
        for (const path of [tracePath, jobPath])
          for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
      },
      async settle() {},
    };
  }
  const schema = `pilotlight_bench_traces_${spans}`;
  const jobs = await createPostgresStore({ connectionString, schema });
  const pool = new pg.Pool({ connectionString, max: 10 });
  const traces = await createPostgresTraceStore({ pool, schema });
  const close = async () => {
    await traces.close();
    await pool.end();
    await jobs.close();
  };
  return {
    jobs,
    traces,
    close,
    async wipe() {
      await close();
      await onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
    // As bench/dashboard.ts explains: a table seeded in one go, with autovacuum off (as on this test
    // server), has no statistics and every row version still there; a live server's autovacuum would
    // have analyzed and vacuumed it. Quick once done, so run every time.
    async settle() {
      await onPostgres(`VACUUM (ANALYZE) "${schema}".trace_spans, "${schema}".trace_resources, "${schema}".jobs`);
    },
  };
}

/** Seeds both stores unless a finished seeding is there; returns how it went. */
async function seeded(kind: TraceStoreKind, spans: number, fresh: boolean): Promise<{ stores: Stores; traces: number; note: string }> {
  let stores = await openStores(kind, spans);
  const traces = Math.round(spans / spansPerTrace());
  if (!fresh && (await isSeeded(stores.jobs, SEEDED_MARK)))
    return { stores, traces, note: 'reused from an earlier run (--fresh seeds again)' };
  await stores.wipe();
  stores = await openStores(kind, spans);
  const started = performance.now();
  const linked = new Map<number, string>();
  const indexes = Array.from({ length: LINKED_JOBS }, (_, k) => Math.floor((k * traces) / LINKED_JOBS / 10) * 10 + (k % 6)).filter(
    isJobTrace,
  );
  const created = await stores.jobs.createJobs(
    indexes.map((i) => ({
      type: jobTypeOf(i),
      method: 'perform',
      argsJson: JSON.stringify([{ tenantId: `tenant-${i}` }]),
      queue: 'default',
      priority: 0,
      retry: {},
      metadata: { traceparent: traceparentOf(i) },
      state: { name: 'Enqueued', at: new Date() },
      runAt: new Date(),
    })),
  );
  created.forEach((job, k) => linked.set(indexes[k]!, job.id));
  let last = 0;
  const written = await seedTraces(
    stores.traces,
    traces,
    (i) => linked.get(i) ?? `0193${i.toString(16).padStart(8, '0')}-0000-7000-8000-000000000000`,
    (done) => {
      if (done - last >= spans / 10) {
        last = done;
        progress(`${kind}: seeded ${formatInt(done)} spans in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    },
  );
  await markSeeded(stores.jobs, SEEDED_MARK);
  const seconds = (performance.now() - started) / 1000;
  return {
    stores,
    traces,
    note: `${formatInt(written)} spans written through store.write() in batches of 5,000 in ${seconds.toFixed(0)} s (${formatInt(written / seconds)} spans/s), ${created.length} linked jobs`,
  };
}

async function measure(base: string, path: () => string, requests: number): Promise<{ times: number[]; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < requests + WARMUP_REQUESTS; i++) {
    const url = base + path();
    const started = performance.now();
    const response = await fetch(url);
    const body = await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
    bytes = body.byteLength;
    if (i >= WARMUP_REQUESTS) times.push(elapsed);
  }
  return { times, bytes };
}

/** The README's queries on the traces page. */
const QUERIES = [
  'name LIKE "process %" AND status = ERROR',
  'duration > 5m',
  'task.status = "Failed"',
  'task.duration_ms > 300000',
  'pilotlight.job.type = "TenantService"',
  'task.type = "MetadataScanTask"',
];

/** Seeds (or reuses) the stores of `kind`, serves the dashboard on them and measures each page `requests` times. */
export async function measurePages(
  kind: TraceStoreKind,
  options: { spans: number; requests: number; fresh: boolean },
): Promise<PagesResult> {
  const { stores, traces, note } = await seeded(kind, options.spans, options.fresh);
  try {
    await stores.settle();
    const spans = await stores.traces.countSpans();
    const dashboard = createDashboard({
      store: stores.jobs,
      logger: silentLogger,
      // Retention must keep the seeded spans however old the cached seed is.
      traces: { store: stores.traces, maxSpans: Math.max(spans * 2, 1_000_000), maxAgeMs: 3_650 * 86_400_000 },
    });
    const server = createServer(dashboard);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const linked = (await stores.jobs.listJobs({ state: 'Enqueued', limit: LINKED_JOBS })).map((job) => job.id);
    if (linked.length === 0) throw new Error('no linked jobs in the seeded job store');
    let next = 0;
    const randomTrace = () => traceIdOf(Math.floor(Math.random() * traces));
    const pages: [string, boolean, () => string][] = [
      ['trace page /traces/:id (random trace)', true, () => `/traces/${randomTrace()}`],
      ["job page /jobs/:id with the job's trace", true, () => `/jobs/${linked[next++ % linked.length]}`],
      ['recent traces /traces', false, () => '/traces'],
      ['tasks /tasks', false, () => '/tasks'],
      ...QUERIES.map((q): [string, boolean, () => string] => [`/traces?q=${q}`, false, () => `/traces?q=${encodeURIComponent(q)}`]),
    ];
    const results: PageResult[] = [];
    try {
      for (const [label, targeted, path] of pages) {
        const { times, bytes } = await measure(base, path, options.requests);
        results.push({ label, targeted, times, bytes });
        progress(`${kind}: ${label}: measured`);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await dashboard.close();
    }
    return { spans, traces, pages: results, seeded: note };
  } finally {
    await stores.close();
  }
}
