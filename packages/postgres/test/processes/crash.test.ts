import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild } from '../../../pilotlight/test/processes/fixtures/children.ts';
import { WORKER_PROCESS } from './fixtures/scripts.ts';
import { countByState, poll, testDatabase, withApplicationName } from './fixtures/database.ts';
import { enqueueOnlyRecordJob } from './fixtures/jobs.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

/** Enough work that the victim is still busy when a slow, loaded machine delivers the kill. */
const JOBS = 1_500;
/** Each job runs this long, so that about `concurrency` jobs are mid-run whenever the kill arrives. */
const JOB_MS = 50;
/** Kill the victim once this many jobs have succeeded. */
const KILL_AFTER = 150;
const CONCURRENCY = 10;
const LEASE_MS = 3_000;

test(
  'a PostgreSQL worker process killed with SIGKILL mid-run loses no job; only its running jobs run again',
  { timeout: 180_000 },
  async (t) => {
    const db = await testDatabase();
    const ids = await db.client.enqueueMany(
      enqueueOnlyRecordJob,
      Array.from({ length: JOBS }, (_, n) => ({ n, sleepMs: JOB_MS })),
    );
    // Sessions tagged with the worker's name and this run's schema, so that the test can see when the
    // server has dropped a dead worker's sessions (another run on the shared server has a 'victim' too).
    const sessionName = (serverName: string) => `${serverName} ${db.schema}`;
    const start = (serverName: string) =>
      startChild(serverName, WORKER_PROCESS, {
        connectionString: withApplicationName(db.connectionString, sessionName(serverName)),
        schema: db.schema,
        poolSize: 4,
        executionsConnectionString: withApplicationName(db.executionsConnectionString, sessionName(serverName)),
        executionsTable: db.executionsTable,
        concurrency: CONCURRENCY,
        // Short leases, so that the dead worker's jobs come back quickly.
        leaseDuration: LEASE_MS,
        heartbeatInterval: 300,
        pollInterval: 100,
        maintenanceInterval: 100,
        serverName,
      } satisfies WorkerProcessConfig);
    const workers = [start('victim'), start('survivor-1'), start('survivor-2')];
    const [victim, ...survivors] = workers as [(typeof workers)[0], ...typeof workers];
    await Promise.all(workers.map((worker) => worker.message('ready')));

    await poll(
      async () => ((await countByState(db.sql, db.schema)).Succeeded ?? 0) >= KILL_AFTER,
      `${KILL_AFTER} jobs to succeed`,
      60_000,
      5,
    );
    victim.process.kill('SIGKILL');
    assert.deepEqual(await victim.exited(), { code: null, signal: 'SIGKILL' });
    // A COMMIT the victim sent just before dying may still be applied: wait until the server has
    // ended all its sessions, then read what it left behind (well before its leases expire).
    await poll(
      async () =>
        (await db.sql.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1`, [sessionName('victim')])).rowCount === 0,
      "the server to drop the victim's sessions",
      10_000,
      5,
    );
    const killedAt = Date.now();
    const held = await db.sql.query<{ id: string; attempt: number; lease_until: Date }>(
      `SELECT id, attempt, lease_until FROM "${db.schema}".jobs WHERE state = 'Processing' AND server_name = 'victim' ORDER BY id`,
    );
    const heldByVictim = held.rows.map((row) => row.id);
    const atDeath = await countByState(db.sql, db.schema);
    assert.ok(heldByVictim.length > 0, 'the victim died with jobs mid-run (otherwise the crash proves nothing)');
    assert.ok(heldByVictim.length <= CONCURRENCY, `the victim held at most its concurrency of jobs (held ${heldByVictim.length})`);
    assert.ok((atDeath.Succeeded ?? 0) < JOBS, 'the victim died before the batch was done');
    assert.ok(
      held.rows.every((row) => row.lease_until.getTime() > killedAt),
      'read before any of its leases expired',
    );

    await poll(async () => (await countByState(db.sql, db.schema)).Succeeded === JOBS, `all ${JOBS} jobs to succeed`, 120_000, 50);
    const elapsedMs = Date.now() - killedAt;
    for (const survivor of survivors) await stopChild(survivor);
    for (const survivor of survivors) assertNoEngineErrors(survivor);

    assert.deepEqual(await countByState(db.sql, db.schema), { Succeeded: JOBS });

    // Every job executed at least once; the only jobs executed more than once are the victim's.
    const executed = await db.executionsSql.query<{ job_id: string; runs: { server: string; attempt: number }[] }>(
      `SELECT job_id, json_agg(json_build_object('server', server, 'attempt', attempt) ORDER BY at) AS runs
     FROM ${db.executionsTable} GROUP BY job_id ORDER BY job_id`,
    );
    assert.deepEqual(
      executed.rows.map((row) => row.job_id).sort(),
      [...ids].sort(),
      'every job id executed at least once, and nothing else',
    );
    const reExecuted = executed.rows.filter((row) => row.runs.length > 1);
    const heldSet = new Set(heldByVictim);
    for (const { job_id: id, runs } of reExecuted) {
      assert.ok(
        heldSet.has(id),
        `job ${id} ran more than once, but was not Processing on the victim when it died: ${JSON.stringify(runs)}`,
      );
      assert.equal(runs.length, 2, `job ${id}: twice at most`);
      assert.deepEqual(runs[0], { server: 'victim', attempt: 1 }, `job ${id}: first run by the victim`);
      assert.match(runs[1]!.server, /^survivor-/, `job ${id}: then by a survivor`);
      assert.equal(runs[1]!.attempt, 2, `job ${id}: in attempt 2`);
    }
    // The victim's jobs were requeued because its lease expired, then finished by a survivor.
    for (const id of heldByVictim) {
      const history = await db.client.getHistory(id);
      const lost = history.findIndex((state) => state.name === 'Processing' && state.serverName === 'victim');
      assert.ok(lost >= 0, `job ${id}: its history has the victim's Processing: ${JSON.stringify(history)}`);
      assert.equal(history[lost + 1]?.name, 'Enqueued', `job ${id}: requeued: ${JSON.stringify(history)}`);
      assert.match(history[lost + 1]?.reason ?? '', /lease/i, `job ${id}: because the victim's lease expired`);
      assert.deepEqual(
        history.slice(lost + 2).map((state) => state.name),
        ['Processing', 'Succeeded'],
        `job ${id}: then run and finished`,
      );
      assert.match(history[lost + 2]!.serverName ?? '', /^survivor-/, `job ${id}: by a survivor`);
    }
    // No job outside those the victim held was touched by a requeue.
    const requeued = await db.sql.query<{ id: string }>(`SELECT id FROM "${db.schema}".jobs WHERE history LIKE '%lease%' ORDER BY id`);
    assert.deepEqual(
      requeued.rows.map((row) => row.id),
      heldByVictim,
      'only the victim’s jobs were requeued',
    );

    const byServer = await db.executionsSql.query<{ server: string; n: string }>(
      `SELECT server, count(*) AS n FROM ${db.executionsTable} GROUP BY server ORDER BY server`,
    );
    t.diagnostic(
      `jobs: ${JOBS}; succeeded at the kill: ${atDeath.Succeeded}; Processing on the victim at its death: ${heldByVictim.length}`,
    );
    t.diagnostic(`re-executions: ${reExecuted.length} (of the ${heldByVictim.length} held; the others had not started their handler)`);
    t.diagnostic(`executions by worker: ${byServer.rows.map((row) => `${row.server} ${row.n}`).join(', ')}`);
    t.diagnostic(`the rest of the batch took ${elapsedMs} ms after the kill (including the victim's ${LEASE_MS} ms leases)`);
  },
);
