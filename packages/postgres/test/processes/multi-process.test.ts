import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild } from '../../../pilotlight/test/processes/fixtures/children.ts';
import { WORKER_PROCESS } from './fixtures/scripts.ts';
import { countByState, poll, testDatabase } from './fixtures/database.ts';
import { enqueueOnlyRecordJob } from './fixtures/jobs.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

const JOBS = 20_000;
const CHUNK = 1_000;
const WORKERS = 3;

test(`${WORKERS} worker processes run ${JOBS} jobs, each exactly once (counted in the database)`, { timeout: 240_000 }, async (t) => {
  const db = await testDatabase();
  const workers = Array.from({ length: WORKERS }, (_, i) => {
    const serverName = `worker-${i + 1}`;
    return startChild(serverName, WORKER_PROCESS, {
      connectionString: db.connectionString,
      schema: db.schema,
      poolSize: 4,
      executionsConnectionString: db.executionsConnectionString,
      executionsTable: db.executionsTable,
      concurrency: 10,
      // One of them holds jobs beyond its concurrency: prefetched jobs must run exactly once too.
      prefetch: i === 2 ? 20 : 0,
      leaseDuration: 30_000,
      heartbeatInterval: 2_000,
      pollInterval: 500,
      maintenanceInterval: 1_000,
      serverName,
    } satisfies WorkerProcessConfig);
  });
  const names = (await Promise.all(workers.map((worker) => worker.message<{ serverName: string }>('ready')))).map(
    (ready) => ready.serverName,
  );
  assert.deepEqual(names, ['worker-1', 'worker-2', 'worker-3']);

  // Enqueued while the workers run: they take jobs as the chunks arrive.
  const started = performance.now();
  const ids: string[] = [];
  for (let from = 0; from < JOBS; from += CHUNK) {
    const chunk = Array.from({ length: Math.min(CHUNK, JOBS - from) }, (_, i) => ({ n: from + i }));
    ids.push(...(await db.client.enqueueMany(enqueueOnlyRecordJob, chunk)));
  }
  const enqueueMs = performance.now() - started;
  assert.equal(new Set(ids).size, JOBS, `${JOBS} distinct ids`);

  await poll(async () => (await countByState(db.sql, db.schema)).Succeeded === JOBS, `all ${JOBS} jobs to succeed`, 180_000, 200);
  const elapsedMs = performance.now() - started;
  for (const worker of workers) await stopChild(worker);
  for (const worker of workers) assertNoEngineErrors(worker);

  // The jobs: all Succeeded, each in its first attempt, by one of the three workers.
  assert.deepEqual(await countByState(db.sql, db.schema), { Succeeded: JOBS });
  const jobs = await db.sql.query<{ n: string; attempts: string; min_id: string; max_id: string }>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE attempt = 1 AND retry_count = 0) AS attempts, min(id) AS min_id, max(id) AS max_id
     FROM "${db.schema}".jobs`,
  );
  assert.deepEqual(jobs.rows[0], { n: String(JOBS), attempts: String(JOBS), min_id: ids[0], max_id: ids.at(-1) });

  // The executions the handlers recorded: one row per job, none for anything else.
  const executions = await db.executionsSql.query<{ rows: string; distinct_jobs: string; first_attempts: string }>(
    `SELECT count(*) AS rows, count(DISTINCT job_id) AS distinct_jobs, count(*) FILTER (WHERE attempt = 1) AS first_attempts FROM ${db.executionsTable}`,
  );
  assert.deepEqual(
    executions.rows[0],
    { rows: String(JOBS), distinct_jobs: String(JOBS), first_attempts: String(JOBS) },
    'one execution per job',
  );
  const twice = await db.executionsSql.query(`SELECT job_id, count(*) FROM ${db.executionsTable} GROUP BY job_id HAVING count(*) > 1`);
  assert.deepEqual(twice.rows, [], 'no job executed more than once');
  const strangers = await db.sql.query(
    `SELECT e.job_id FROM ${db.executionsTable} AS e LEFT JOIN "${db.schema}".jobs AS j ON j.id = e.job_id WHERE j.id IS NULL`,
  );
  assert.deepEqual(strangers.rows, [], 'every execution is of an enqueued job');
  // Each execution ran on the worker the job's history names.
  const mismatched = await db.sql.query(
    `SELECT e.job_id FROM ${db.executionsTable} AS e JOIN "${db.schema}".jobs AS j ON j.id = e.job_id
     WHERE j.server_name IS DISTINCT FROM e.server AND j.history NOT LIKE '%"serverName":' || to_json(e.server)::text || '%'`,
  );
  assert.deepEqual(mismatched.rows, [], 'each execution ran on the worker recorded in the job');

  const byServer = await db.executionsSql.query<{ server: string; n: string; pids: string }>(
    `SELECT server, count(*) AS n, count(DISTINCT pid) AS pids FROM ${db.executionsTable} GROUP BY server ORDER BY server`,
  );
  assert.deepEqual(
    byServer.rows.map((row) => row.server),
    names,
    'all three workers did some of the work',
  );
  for (const row of byServer.rows) {
    assert.equal(row.pids, '1', `${row.server} is one process`);
    assert.ok(Number(row.n) >= JOBS / 20, `${row.server} ran a real share of the jobs (${row.n})`);
  }

  t.diagnostic(`enqueue of ${JOBS} jobs in chunks of ${CHUNK}: ${Math.round(enqueueMs)} ms`);
  t.diagnostic(
    `all ${JOBS} succeeded ${Math.round(elapsedMs)} ms after the first enqueue (${Math.round((JOBS / elapsedMs) * 1000)} jobs/s)`,
  );
  t.diagnostic(`executions by worker: ${byServer.rows.map((row) => `${row.server} ${row.n}`).join(', ')}`);
});
