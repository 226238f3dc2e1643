import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild } from './fixtures/children.ts';
import { enqueueOnlyRecordJob } from './fixtures/jobs.ts';
import { assertAllSucceeded, byJob, poll, sharedDb } from './fixtures/shared-db.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

/** Enough work (3 s for worker A alone) that A is still busy when a slow, loaded machine delivers the kill. */
const JOBS = 600;
/** Each job runs this long, so that about `concurrency` jobs are mid-run whenever the kill arrives. */
const JOB_MS = 50;
/** Kill worker A once this many jobs have succeeded. */
const KILL_AFTER = 50;

test('a worker process killed with SIGKILL mid-run loses no job', { timeout: 120_000 }, async (t) => {
  const db = sharedDb();
  const ids = await db.client.enqueueMany(
    enqueueOnlyRecordJob,
    Array.from({ length: JOBS }, (_, n) => ({ n, sleepMs: JOB_MS })),
  );
  const workerConfig = (): WorkerProcessConfig => ({
    dbPath: db.dbPath,
    logFile: db.logFile,
    concurrency: 10,
    leaseDuration: 1_500,
    heartbeatInterval: 300,
    pollInterval: 50,
    maintenanceInterval: 100,
  });

  // Worker A runs part of the batch, then dies without any chance to clean up.
  const a = startChild('worker A', './worker-process.ts', workerConfig());
  const { serverName: aName } = await a.message<{ serverName: string }>('ready');
  await poll(async () => (await db.client.countJobs()).Succeeded >= KILL_AFTER, `${KILL_AFTER} jobs to succeed under worker A`, 60_000, 5);
  a.process.kill('SIGKILL');
  assert.deepEqual(await a.exited(), { code: null, signal: 'SIGKILL' });

  // What A left behind: the jobs it held when it died, and those whose handler it had started.
  const atDeath = await db.client.countJobs();
  const heldByA = new Set(
    (await db.client.listJobs({ state: 'Processing', limit: 10_000 })).filter((job) => job.serverName === aName).map((job) => job.id),
  );
  const startedByA = new Set(db.executions().map((execution) => execution.jobId));
  assert.equal(atDeath.Processing, heldByA.size, 'every Processing job is held by A (no other worker ran yet)');
  assert.ok(heldByA.size > 0, 'A died with jobs mid-run (otherwise the crash proves nothing)');
  assert.ok(heldByA.size <= 10, `A held at most its concurrency of jobs (held ${heldByA.size})`);
  assert.ok(atDeath.Succeeded < JOBS, 'A died before finishing the batch');

  // Worker B, on the same file, finishes the batch: it requeues A's jobs once their leases expire.
  const b = startChild('worker B', './worker-process.ts', workerConfig());
  const { serverName: bName } = await b.message<{ serverName: string }>('ready');
  assert.notEqual(bName, aName);
  const started = Date.now();
  await poll(async () => (await db.client.countJobs()).Succeeded === JOBS, `all ${JOBS} jobs to succeed under worker B`, 60_000);
  const bElapsed = Date.now() - started;
  await stopChild(b);
  assertNoEngineErrors(b);

  // Every job ends Succeeded.
  await assertAllSucceeded(db, JOBS);
  for (const id of ids) assert.equal((await db.client.getJob(id))?.state, 'Succeeded', `job ${id}`);

  // Every job executed at least once, and only the batch's jobs executed.
  const executions = db.executions();
  const runs = byJob(executions);
  assert.deepEqual([...runs.keys()].sort(), [...ids].sort(), 'every job id executed at least once, and nothing else');
  for (const execution of executions) {
    assert.ok(execution.pid === a.pid || execution.pid === b.pid, `execution by an unknown process: ${JSON.stringify(execution)}`);
  }

  // Re-executions: exactly the jobs A was running (handler started, completion never recorded).
  const reExecuted = [...runs]
    .filter(([, list]) => list.length > 1)
    .map(([id]) => id)
    .sort();
  const expected = [...heldByA].filter((id) => startedByA.has(id)).sort();
  assert.deepEqual(reExecuted, expected, 're-executed jobs are exactly those A was running when it died');
  assert.ok(reExecuted.length <= 10, `re-executions (${reExecuted.length}) are at most A's concurrency (10)`);

  for (const id of reExecuted) {
    const list = runs.get(id)!;
    assert.deepEqual(
      list.map((execution) => [execution.pid, execution.attempt]),
      [
        [a.pid, 1],
        [b.pid, 2],
      ],
      `job ${id}: attempt 1 by A, attempt 2 by B, nothing else`,
    );
    const history = await db.client.getHistory(id);
    const lost = history.findIndex((state) => state.name === 'Processing' && state.serverName === aName);
    assert.ok(lost >= 0, `job ${id}: history has a Processing entry of A: ${JSON.stringify(history)}`);
    const next = history[lost + 1];
    assert.equal(next?.name, 'Enqueued', `job ${id}: A's Processing is followed by Enqueued: ${JSON.stringify(history)}`);
    assert.match(next.reason ?? '', /lease/i, `job ${id}: requeued because A's lease expired`);
    assert.deepEqual(
      history.slice(lost + 2).map((state) => [state.name, state.serverName]),
      [
        ['Processing', bName],
        ['Succeeded', undefined],
      ],
      `job ${id}: then run and finished by B`,
    );
  }

  // Every other job ran exactly once.
  for (const [id, list] of runs) {
    if (!reExecuted.includes(id)) assert.equal(list.length, 1, `job ${id} ran once`);
  }

  const byA = executions.filter((execution) => execution.pid === a.pid).length;
  t.diagnostic(
    `jobs: ${JOBS}; succeeded when A was killed: ${atDeath.Succeeded}; held by A at death: ${heldByA.size} (handler started: ${expected.length})`,
  );
  t.diagnostic(`executions: ${executions.length} (A: ${byA}, B: ${executions.length - byA}); re-executions: ${reExecuted.length}`);
  t.diagnostic(`B finished the batch in ${bElapsed} ms (includes waiting for A's 1500 ms leases to expire)`);
});
