/**
 * The dashboard's server time with a million jobs in the store, on SQLite and on PostgreSQL: the
 * overview, a jobs page at depth (page 1 and page 1,000, 50 jobs a page, also filtered by queue), a
 * search, a job's page and the other pages, each requested over real HTTP from this process, one
 * request at a time; the time runs from sending the request to the last byte of the answer. Target:
 * every page's p95 ≤ 50 ms.
 *
 *   node bench/dashboard.ts                        both stores, 1,000,000 jobs, 200 requests a page
 *   node bench/dashboard.ts --store sqlite --jobs 100000 --requests 50
 *   node bench/dashboard.ts --fresh                seed again (the seeded store is kept between runs)
 *
 * Seeding goes through the `Store` interface (see lib/dashboard-seed.ts) and takes about a minute on
 * SQLite, a few on PostgreSQL; the seeded database is kept (SQLite: a file in the temporary folder;
 * PostgreSQL: schema pilotlight_bench_dashboard_<jobs>) for the next run. PostgreSQL:
 * PILOTLIGHT_BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 * Exits 1 if a page misses the target, 2 on bad arguments.
 */
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDashboard } from '../packages/dashboard/src/index.ts';
import type { Store } from '../packages/pilotlight/src/store-kit.ts';
import { createSqliteStore } from '../packages/pilotlight/src/sqlite.ts';
import { createPostgresStore } from '../packages/postgres/src/index.ts';
import { connectionString, onPostgres } from './lib/bench-postgres.ts';
import { isSeeded, markSeeded, SEED_QUEUES, seedJobs } from './lib/dashboard-seed.ts';
import { formatInt, formatMs } from './lib/format.ts';
import { printMachine } from './lib/machine.ts';
import { summarize } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const TARGET_P95_MS = 50;
const PAGE_SIZE = 50;

let args: { store: string; jobs: string; requests: string; fresh: boolean };
try {
  args = parseArgs({
    options: {
      store: { type: 'string', default: 'both' },
      jobs: { type: 'string', default: '1000000' },
      requests: { type: 'string', default: '200' },
      fresh: { type: 'boolean', default: false },
    },
  }).values as typeof args;
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const jobs = Number(args.jobs);
const requests = Number(args.requests);
const stores = args.store === 'both' ? ['sqlite', 'postgres'] : [args.store];
if (
  !Number.isInteger(jobs) ||
  jobs < 1000 ||
  !Number.isInteger(requests) ||
  requests < 1 ||
  stores.some((s) => !['sqlite', 'postgres'].includes(s))
) {
  console.error('usage: node bench/dashboard.ts [--store sqlite|postgres|both] [--jobs N (>= 1000)] [--requests N] [--fresh]');
  process.exit(2);
}

/** Marks a store whose seeding finished (a crashed seeding is seeded again). */
const SEEDED_MARK = 'bench-seeded';

async function openSqlite(): Promise<Store> {
  const path = join(tmpdir(), `pilotlight-bench-dashboard-${jobs}.db`);
  if (args.fresh) for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
  return createSqliteStore({ path });
}

const postgresSchema = `pilotlight_bench_dashboard_${jobs}`;

async function openPostgres(): Promise<Store> {
  if (args.fresh) await onPostgres(`DROP SCHEMA IF EXISTS "${postgresSchema}" CASCADE`);
  return createPostgresStore({ connectionString, schema: postgresSchema });
}

/**
 * The seeded jobs table as autovacuum would leave it on a live server: seeding moves every job
 * through Processing (two dead row versions a job, and a dead entry in jobs_leases) and no
 * statistics exist until it runs. Where it is off (test servers often turn it off), the planner
 * would take state = 'Succeeded' for 0.5 % of the table rather than 90 %, and pick bitmap scans that
 * read every Succeeded row (pages of one queue or type, the search) or every dead lease (the
 * workers page): 300-900 ms a page instead of a few. Run each time (quick once done) so that a
 * schema seeded before is settled too.
 */
async function settlePostgres(): Promise<void> {
  await onPostgres(`VACUUM (ANALYZE) "${postgresSchema}".jobs`);
}

async function seeded(store: Store, name: string): Promise<void> {
  if (await isSeeded(store, SEEDED_MARK)) return;
  const started = Date.now();
  let last = 0;
  await seedJobs(store, jobs, (done) => {
    if (done - last >= jobs / 10 || done === jobs) {
      last = done;
      process.stdout.write(`  ${name}: seeded ${formatInt(done)} jobs in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  });
  // A few jobs running on a live worker, for the workers page.
  await store.claimJobs({
    queues: [...SEED_QUEUES],
    limit: 20,
    serverName: 'bench-worker',
    now: new Date(),
    leaseUntil: new Date(Date.now() + 3_600_000),
  });
  await markSeeded(store, SEEDED_MARK);
}

/**
 * The id to pass as `before` to reach page `page` (1-based) of `query`, walked page by page as a user
 * would, and the page reached (fewer when the state holds fewer pages).
 */
async function cursorAt(
  store: Store,
  query: { state: 'Succeeded'; queue?: string },
  page: number,
): Promise<{ before: string; page: number }> {
  let before = '';
  let reached = 1;
  for (; reached < page; reached++) {
    const rows = await store.listJobs({ ...query, limit: PAGE_SIZE, ...(before !== '' && { before }) });
    if (rows.length < PAGE_SIZE) break;
    before = rows.at(-1)!.id;
  }
  return { before, page: reached };
}

async function measure(base: string, path: string | (() => string)): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < requests + 10; i++) {
    const url = base + (typeof path === 'function' ? path() : path);
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
    if (i >= 10) times.push(elapsed); // the first 10 warm caches up
  }
  return times;
}

async function bench(name: string, open: () => Promise<Store>, settle?: () => Promise<void>): Promise<boolean> {
  const store = await open();
  await seeded(store, name);
  await settle?.();
  await store.heartbeat(
    { name: 'bench-worker', queues: [...SEED_QUEUES], concurrency: 20, startedAt: new Date(Date.now() - 60_000), heartbeatAt: new Date() },
    new Date(Date.now() + 3_600_000),
  );
  const dashboard = createDashboard({ store });
  const server = createServer(dashboard);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const failed = await store.listJobs({ state: 'Failed', limit: 500 });
  let next = 0;
  const deep = await cursorAt(store, { state: 'Succeeded' }, 1000);
  const deepInQueue = await cursorAt(store, { state: 'Succeeded', queue: 'emails' }, 1000);
  const pages: [string, string | (() => string)][] = [
    ['overview', '/'],
    ['overview, live update (JSON)', '/api/overview'],
    ['Succeeded, page 1', '/jobs?state=Succeeded'],
    [`Succeeded, page ${formatInt(deep.page)}`, `/jobs?state=Succeeded&before=${deep.before}`],
    [`Succeeded in queue emails, page ${formatInt(deepInQueue.page)}`, `/jobs?state=Succeeded&queue=emails&before=${deepInQueue.before}`],
    ['Succeeded of type Service7, page 1', '/jobs?state=Succeeded&type=Service7'],
    ['Failed, page 1', '/jobs?state=Failed'],
    ['search "user-4242" in Succeeded', '/jobs?state=Succeeded&q=user-4242'],
    ['job detail (a failed job)', () => `/jobs/${failed[next++ % failed.length]!.id}`],
    ['queues', '/queues'],
    ['workers', '/workers'],
    ['recurring', '/recurring'],
  ];
  const rows: string[][] = [];
  let ok = true;
  for (const [label, path] of pages) {
    const summary = summarize(await measure(base, path));
    const met = summary.p95 <= TARGET_P95_MS;
    ok &&= met;
    rows.push([label, formatMs(summary.p50), formatMs(summary.p95), formatMs(summary.max), met ? 'yes' : 'NO']);
  }
  const counts = await store.countJobs();
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  console.log(`\n${name}: ${formatInt(total)} jobs in the store, ${requests} requests a page (after 10 to warm up)\n`);
  printTable(
    [
      'page',
      { title: 'p50', align: 'right' },
      { title: 'p95', align: 'right' },
      { title: 'max', align: 'right' },
      `p95 ≤ ${TARGET_P95_MS} ms`,
    ],
    rows,
  );
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await dashboard.close();
  await store.close();
  return ok;
}

console.log('Pilotlight dashboard benchmark\n');
printMachine();
let ok = true;
for (const name of stores)
  ok = (name === 'sqlite' ? await bench('SQLite', openSqlite) : await bench('PostgreSQL', openPostgres, settlePostgres)) && ok;
process.exit(ok ? 0 : 1);
