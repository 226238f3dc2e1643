import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  engineComplaints,
  killLeftoverChildren,
  startChild,
  stopChild,
  type Child,
} from '../../../pilotlight/test/processes/fixtures/children.ts';
import { WORKER_PROCESS } from './fixtures/scripts.ts';
import { countByState, poll, testDatabase, withApplicationName } from './fixtures/database.ts';
import { enqueueOnlyRecordJob } from './fixtures/jobs.ts';
import { startPrivateCluster } from './fixtures/private-cluster.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

const JOBS = 3_000;
/** Each job runs this long, so that jobs are mid-run (and outcomes on their way) when the server goes down. */
const JOB_MS = 30;
const CONCURRENCY = 10;
const NAMES = ['worker-1', 'worker-2', 'worker-3'];

/** The value, or undefined while the database is down (the test polls through the outage). */
async function tolerant<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

test(
  'workers ride out PostgreSQL restarts (fast, immediate, and a 3 s crash): every job completes, none stuck, none lost',
  { timeout: 300_000 },
  async (t) => {
    // A cluster of this test's own: the shared server, which other test files use, is never restarted.
    const cluster = await startPrivateCluster();
    // The jobs live on the private cluster; the handlers record executions on the shared server,
    // which stays up: the record of what ran does not depend on the server being restarted.
    const db = await testDatabase({ connectionString: cluster.connectionString, cleanUpLast: cluster.stop });
    const ids = await db.client.enqueueMany(
      enqueueOnlyRecordJob,
      Array.from({ length: JOBS }, (_, n) => ({ n, sleepMs: JOB_MS })),
    );
    const workers: Child[] = NAMES.map((serverName) =>
      startChild(serverName, WORKER_PROCESS, {
        connectionString: withApplicationName(db.connectionString, serverName),
        schema: db.schema,
        poolSize: 4,
        executionsConnectionString: db.executionsConnectionString,
        executionsTable: db.executionsTable,
        concurrency: CONCURRENCY,
        // Leases outlive the outages: a job whose outcome waits for the server is not taken over.
        leaseDuration: 15_000,
        heartbeatInterval: 500,
        pollInterval: 200,
        maintenanceInterval: 200,
        serverName,
      } satisfies WorkerProcessConfig),
    );
    await Promise.all(workers.map((worker) => worker.message('ready')));

    const counts = () => tolerant(() => countByState(db.sql, db.schema));
    type Mode = 'fast' | 'immediate' | 'immediate, down 3 s';
    const restarts: { mode: Mode; succeededBefore: number; processingBefore: number; downMs: number; doneAt: number }[] = [];
    const restartMidRun = async (mode: Mode, afterSucceeded: number) => {
      const before = await poll(
        async () => {
          const now = await counts();
          return now && (now.Succeeded ?? 0) >= afterSucceeded && (now.Processing ?? 0) > 0 ? now : undefined;
        },
        `${afterSucceeded} jobs to succeed with others running`,
        120_000,
        10,
      );
      const started = Date.now();
      if (mode === 'immediate, down 3 s') await cluster.outage(3_000);
      else await cluster.restart(mode);
      const doneAt = Date.now();
      restarts.push({
        mode,
        succeededBefore: before.Succeeded ?? 0,
        processingBefore: before.Processing ?? 0,
        downMs: doneAt - started,
        doneAt,
      });
      const after = await poll(counts, 'the restarted server to answer', 30_000);
      assert.ok((after.Succeeded ?? 0) < JOBS, `the ${mode} restart came while the batch was running (${JSON.stringify(after)})`);
    };
    await restartMidRun('fast', JOBS * 0.15);
    await restartMidRun('immediate', JOBS * 0.4);
    // A longer outage: claims, heartbeats and the LISTEN connection fail for a while (leases hold).
    await restartMidRun('immediate, down 3 s', JOBS * 0.6);

    // Each worker's LISTEN connection is back (a new session, after the last restart).
    await poll(
      async () => {
        const { rows } = await db.sql.query<{ application_name: string }>(
          `SELECT DISTINCT application_name FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND application_name = ANY($1)`,
          [NAMES],
        );
        return rows.length === NAMES.length;
      },
      'every worker to LISTEN again',
      30_000,
      50,
    );

    try {
      await poll(async () => (await counts())?.Succeeded === JOBS, `all ${JOBS} jobs to succeed`, 120_000, 100);
    } catch (error) {
      const stuck = await db.sql.query(
        `SELECT id, state, server_name, attempt, lease_until, history FROM "${db.schema}".jobs WHERE state <> 'Succeeded' LIMIT 20`,
      );
      throw new Error(
        `${String(error)}\nnot succeeded: ${JSON.stringify(stuck.rows, null, 1)}\n${workers.map((w) => `--- ${w.name}:\n${w.output()}`).join('\n')}`,
      );
    }
    for (const worker of workers) await stopChild(worker); // each survived (exit code 0) and stops cleanly

    assert.deepEqual(await countByState(db.sql, db.schema), { Succeeded: JOBS }, 'all Succeeded: none Processing, Failed or lost');

    const executed = await db.executionsSql.query<{ job_id: string; runs: { server: string; attempt: number }[] }>(
      `SELECT job_id, json_agg(json_build_object('server', server, 'attempt', attempt) ORDER BY at) AS runs
     FROM ${db.executionsTable} GROUP BY job_id ORDER BY job_id`,
    );
    assert.deepEqual(
      executed.rows.map((row) => row.job_id).sort(),
      [...ids].sort(),
      'every job id executed at least once, and nothing else',
    );

    // Every worker carried on after the last restart.
    const lastRestart = new Date(restarts.at(-1)!.doneAt);
    const afterwards = await db.executionsSql.query<{ server: string; n: string }>(
      `SELECT server, count(*) AS n FROM ${db.executionsTable} WHERE at > $1 GROUP BY server ORDER BY server`,
      [lastRestart],
    );
    assert.deepEqual(
      afterwards.rows.map((row) => row.server),
      NAMES,
      `every worker ran jobs after the last restart: ${JSON.stringify(afterwards.rows)}`,
    );

    // What the workers said: outcomes they could not record at once (retried), stray claims handed back.
    const logs = workers.map((worker) => worker.output()).join('\n');
    const outcomeFailed = new Set([...logs.matchAll(/could not record the outcome of job (\d+)/g)].map((match) => match[1]!));
    const recordedLate = new Set([...logs.matchAll(/recorded the outcome of job (\d+) \(\w+\) at try/g)].map((match) => match[1]!));
    const handedBack = new Set([...logs.matchAll(/holds job (\d+) \(attempt \d+\) without running it/g)].map((match) => match[1]!));

    // A job runs again only if its outcome could not be recorded during an outage.
    const reExecuted = executed.rows.filter((row) => row.runs.length > 1);
    for (const { job_id: id, runs } of reExecuted) {
      assert.ok(
        outcomeFailed.has(id),
        `job ${id} ran ${runs.length} times although its outcome was never refused: ${JSON.stringify(runs)}`,
      );
    }
    // A stray claim handed back had not run where it was stray.
    for (const id of handedBack) {
      const history = await db.client.getHistory(id);
      assert.ok(
        history.some((state) => state.name === 'Enqueued' && /handed back/.test(state.reason ?? '')),
        `job ${id}: handed back: ${JSON.stringify(history)}`,
      );
    }

    const complaints = workers.map((worker) => `${worker.name} ${engineComplaints(worker).length}`).join(', ');
    for (const restart of restarts) {
      t.diagnostic(
        `${restart.mode} restart at ${restart.succeededBefore} succeeded / ${restart.processingBefore} processing: server away ${restart.downMs} ms`,
      );
    }
    t.diagnostic(
      `outcomes refused at first: ${outcomeFailed.size} (recorded on a later try: ${recordedLate.size}); stray claims handed back: ${handedBack.size}`,
    );
    t.diagnostic(`re-executions: ${reExecuted.length} of ${JOBS} jobs`);
    t.diagnostic(`warning and error lines logged: ${complaints}`);
    const kinds = new Map<string, number>();
    for (const worker of workers) {
      for (const line of engineComplaints(worker)) {
        const kind = line
          .replace(/^\[[^\]]*\] /, '')
          .replace(/\d+/g, 'N')
          .slice(0, 160);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
    }
    for (const [kind, n] of [...kinds].sort((a, b) => b[1] - a[1])) t.diagnostic(`  ${n} × ${kind}`);
  },
);
