import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild } from './fixtures/children.ts';
import { enqueueOnlyRecordJob } from './fixtures/jobs.ts';
import { poll, sharedDb } from './fixtures/shared-db.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

/** The worker's poll timer would first fire this long after it started: far beyond the test. */
const POLL_INTERVAL = 60_000;
/**
 * A woken worker starts the job within milliseconds; the bound is loose so that a loaded machine
 * never fails the test, and still far below what polling would take (POLL_INTERVAL).
 */
const WAKE_BOUND_MS = 5_000;
const ROUNDS = 3;

test('a worker in another process picks up a new job without polling (woken by the -wal file watch)', { timeout: 60_000 }, async (t) => {
  const db = sharedDb();
  const spawnedAt = Date.now(); // the worker's poll timer starts after this
  const worker = startChild('worker', './worker-process.ts', {
    dbPath: db.dbPath,
    logFile: db.logFile,
    concurrency: 2,
    leaseDuration: 10_000,
    heartbeatInterval: 1_000,
    pollInterval: POLL_INTERVAL,
    maintenanceInterval: POLL_INTERVAL,
    settleMs: 300, // its first claim, made on start, has found nothing by the time it reports ready
  } satisfies WorkerProcessConfig);
  await worker.message('ready');

  const latencies: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Idle: the claim that followed the previous job (or the start) has found nothing.
    await sleep(500);
    const enqueuedAt = Date.now();
    const id = await db.client.enqueue(enqueueOnlyRecordJob, { n: round });
    const execution = await poll(
      () => db.executions().find((e) => e.jobId === id),
      `job ${id} to start in the worker process`,
      WAKE_BOUND_MS + 10_000, // fail fast, still well within one poll interval
      5,
    );
    const latency = execution.startedAt - enqueuedAt;
    latencies.push(latency);
    assert.equal(execution.pid, worker.pid);
    assert.ok(latency < WAKE_BOUND_MS, `round ${round}: job ${id} started ${latency} ms after enqueue (bound ${WAKE_BOUND_MS} ms)`);
    await poll(async () => (await db.client.getJob(id))?.state === 'Succeeded', `job ${id} to succeed`, 10_000, 5);
  }
  // Every job started before the worker's first poll could have fired.
  assert.ok(Date.now() - spawnedAt < POLL_INTERVAL, 'the test ran within one poll interval');
  await stopChild(worker);
  assertNoEngineErrors(worker);

  assert.equal(db.executions().length, ROUNDS, 'each job ran once');
  assert.equal((await db.client.countJobs()).Succeeded, ROUNDS);
  t.diagnostic(`enqueue→start latency per round (ms): ${latencies.join(', ')} (worker pollInterval ${POLL_INTERVAL} ms)`);
});
