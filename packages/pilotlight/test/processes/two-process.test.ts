import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild } from './fixtures/children.ts';
import type { ProducerProcessConfig } from './fixtures/producer-process.ts';
import { assertAllSucceeded, byJob, poll, sharedDb } from './fixtures/shared-db.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

const JOBS = 5_000;

test('one process enqueues 5,000 jobs while another processes them, each exactly once', { timeout: 180_000 }, async (t) => {
  const db = sharedDb();

  const worker = startChild('worker', './worker-process.ts', {
    dbPath: db.dbPath,
    logFile: db.logFile,
    concurrency: 10,
    leaseDuration: 10_000,
    heartbeatInterval: 1_000,
    pollInterval: 1_000,
    maintenanceInterval: 1_000,
  } satisfies WorkerProcessConfig);
  const producer = startChild('producer', './producer-process.ts', {
    dbPath: db.dbPath,
    count: JOBS,
    yieldEvery: 10,
  } satisfies ProducerProcessConfig);
  await Promise.all([worker.message('ready'), producer.message('ready')]);

  const started = performance.now();
  producer.process.send({ type: 'go' });
  const { ids, elapsedMs: enqueueMs } = await producer.message<{ ids: string[]; elapsedMs: number }>('done', 60_000);
  const executedWhileEnqueueing = db.executions().length;
  assert.deepEqual(await producer.exited(), { code: 0, signal: null }, `producer output:\n${producer.output()}`);
  assert.equal(ids.length, JOBS);
  assert.equal(new Set(ids).size, JOBS, 'the producer got 5,000 distinct ids');

  await poll(async () => (await db.client.countJobs()).Succeeded === JOBS, `all ${JOBS} jobs to succeed`, 60_000, 50);
  const elapsedMs = performance.now() - started;
  await stopChild(worker);
  assertNoEngineErrors(worker);
  assertNoEngineErrors(producer);

  await assertAllSucceeded(db, JOBS);

  const executions = db.executions();
  const runs = byJob(executions);
  assert.equal(executions.length, JOBS, 'exactly 5,000 executions');
  assert.deepEqual([...runs.keys()].sort(), [...ids].sort(), 'the executed ids are the enqueued ids');
  for (const [id, list] of runs) {
    assert.equal(list.length, 1, `job ${id} ran exactly once`);
    assert.equal(list[0]!.attempt, 1, `job ${id} ran in its first attempt`);
    assert.equal(list[0]!.pid, worker.pid, `job ${id} ran in the worker process`);
  }
  assert.ok(executedWhileEnqueueing > 0, 'the worker processed jobs while the producer was still enqueueing');

  t.diagnostic(
    `enqueue of ${JOBS} jobs (one transaction each): ${Math.round(enqueueMs)} ms; executed meanwhile: ${executedWhileEnqueueing}`,
  );
  t.diagnostic(
    `all ${JOBS} succeeded ${Math.round(elapsedMs)} ms after the producer started (${Math.round((JOBS / elapsedMs) * 1000)} jobs/s end to end)`,
  );
});
