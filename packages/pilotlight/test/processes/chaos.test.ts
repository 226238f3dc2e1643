import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHAOS_JOB_TYPE, chaosPlan, keyOf } from './fixtures/chaos-jobs.ts';
import { readBatchEvents, readExecutionEvents, type ExecutionEvent } from './fixtures/chaos-logs.ts';
import type { ChaosProducerConfig } from './fixtures/chaos-producer.ts';
import type { ChaosWorkerConfig } from './fixtures/chaos-worker.ts';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild, type Child } from './fixtures/children.ts';
import { randomInt, seededRandom } from './fixtures/seeded-random.ts';
import { assertAllSucceeded, poll, sharedDb, type SharedDb } from './fixtures/shared-db.ts';

/** Change it to explore other schedules; a failure message names it, to replay the run. */
const SEED = 20_240_611;
/** Many small batches, a pause after each: the enqueueing spans the workers' chaos, so kills hit running work. */
const BATCHES = 50;
const BATCH_SIZE = 100;
const PAUSE_MS = 150;
const JOBS = BATCHES * BATCH_SIZE;
const WORKER_KILLS = 10;
const LEASE_MS = 1_500;

/** One worker process: the slot it fills (two run at a time), its name, its execution log. */
interface WorkerRun {
  readonly slot: number;
  readonly serverName: string;
  readonly logFile: string;
  readonly child: Child;
  readonly ready: Promise<unknown>;
  killed: boolean;
}

/** One execution of a job: a handler start (`S`), and whether its `Succeeded` commit was recorded (`E`). */
interface Execution {
  readonly run: WorkerRun;
  readonly attempt: number;
  ended: boolean;
}

test(
  `kill -9 chaos: 2 workers killed ${WORKER_KILLS} times and the producer once mid-enqueueMany, ${JOBS} jobs: none lost, none stuck, re-runs only of killed executions`,
  { timeout: 150_000 },
  async (t) => {
    const started = performance.now();
    const db = sharedDb();
    const batchLog = join(db.dir, 'producer.log');
    const plan = chaosPlan(BATCHES, BATCH_SIZE);
    const runs: WorkerRun[] = [];
    const startWorker = (slot: number): WorkerRun => {
      const serverName = `chaos-w${slot}-${runs.filter((run) => run.slot === slot).length}`;
      const logFile = join(db.dir, `executions-${serverName}.log`);
      const child = startChild(serverName, './chaos-worker.ts', {
        dbPath: db.dbPath,
        logFile,
        serverName,
        concurrency: 10,
        leaseDuration: LEASE_MS,
        heartbeatInterval: 250,
        pollInterval: 50,
        maintenanceInterval: 100,
      } satisfies ChaosWorkerConfig);
      const run: WorkerRun = { slot, serverName, logFile, child, ready: child.message('ready'), killed: false };
      runs.push(run);
      return run;
    };
    const producerConfig = (stallAt?: ChaosProducerConfig['stallAt']): ChaosProducerConfig => ({
      dbPath: db.dbPath,
      batchLog,
      batches: BATCHES,
      batchSize: BATCH_SIZE,
      pauseMs: PAUSE_MS,
      ...(stallAt && { stallAt }),
    });

    try {
      const slots = [startWorker(0), startWorker(1)];
      await Promise.all(slots.map((run) => run.ready));

      // Separate streams, so the two chaos loops make the same choices however they interleave.
      const workerRandom = seededRandom(SEED);
      const producerRandom = seededRandom(SEED + 1);
      const stallAt = { batch: randomInt(producerRandom, 10, 30), rows: randomInt(producerRandom, 1, BATCH_SIZE - 1) };
      const firstProducer = startChild('producer', './chaos-producer.ts', producerConfig(stallAt));
      await firstProducer.message('ready');
      firstProducer.process.send({ type: 'go' });

      const workerChaos = (async () => {
        for (let kill = 0; kill < WORKER_KILLS; kill++) {
          await sleep(randomInt(workerRandom, 300, 800));
          const slot = randomInt(workerRandom, 0, 1);
          const victim = slots[slot]!;
          await victim.ready; // a restarted worker is killed only once it runs
          // Between two batches the workers may be idle: wait (a little) for the victim to be running a job.
          await poll(() => isRunningAJob(victim), `${victim.serverName} to run a job`, 1_000, 5).catch(() => undefined);
          victim.child.process.kill('SIGKILL');
          assert.deepEqual(await victim.child.exited(), { code: null, signal: 'SIGKILL' }, `${victim.serverName} died of the SIGKILL`);
          victim.killed = true;
          await sleep(randomInt(workerRandom, 50, 300));
          slots[slot] = startWorker(slot);
        }
      })();

      const producerChaos = (async () => {
        // Killed inside the transaction of batch `stallAt.batch`, `stallAt.rows` rows inserted.
        await firstProducer.message('inside', 60_000);
        firstProducer.process.kill('SIGKILL');
        assert.deepEqual(await firstProducer.exited(), { code: null, signal: 'SIGKILL' });
        const inside = readBatchEvents(batchLog).find((entry) => entry.event === 'inside');
        assert.ok(inside?.event === 'inside' && inside.locked, `the producer held the write lock when killed: ${JSON.stringify(inside)}`);

        // All or nothing: each batch is entirely present or entirely absent; the one killed mid-write is absent.
        const atKill = await presentKeys(db);
        const done = new Set(readBatchEvents(batchLog).flatMap((entry) => (entry.event === 'done' ? [entry.batch] : [])));
        for (const [batch, argsList] of plan.entries()) {
          const found = argsList.filter((args) => atKill.has(args.key)).length;
          const expected = done.has(batch) ? BATCH_SIZE : 0;
          assert.equal(
            found,
            expected,
            `after the producer's kill, batch ${batch} has ${found} of its ${BATCH_SIZE} jobs (done: ${done.has(batch)})`,
          );
        }
        assert.deepEqual(
          [...done].sort((a, b) => a - b),
          Array.from({ length: stallAt.batch }, (_, b) => b),
          'the batches before the killed one were written',
        );

        // Restarted, the producer writes the absent batches, the killed one included, and skips the others.
        await sleep(randomInt(producerRandom, 100, 400));
        const secondProducer = startChild('producer (restarted)', './chaos-producer.ts', producerConfig());
        await secondProducer.message('ready');
        secondProducer.process.send({ type: 'go' });
        const result = await secondProducer.message<{ enqueued: number[]; skipped: number[]; torn: number[] }>('done', 60_000);
        assert.deepEqual(
          await secondProducer.exited(),
          { code: 0, signal: null },
          `restarted producer's output:\n${secondProducer.output()}`,
        );
        assertNoEngineErrors(secondProducer);
        assert.deepEqual(result.torn, [], 'no batch was found partly written');
        assert.deepEqual(
          result.skipped,
          [...done].sort((a, b) => a - b),
          'the restart skipped exactly the batches written before the kill',
        );
        assert.deepEqual(
          result.enqueued,
          plan.map((_, b) => b).filter((b) => !done.has(b)),
          'the restart wrote every other batch',
        );
        return { atKill: atKill.size };
      })();

      const [, producerOutcome] = await Promise.all([workerChaos, producerChaos]);
      const chaosEnded = performance.now();

      // Nothing stuck: every job ends Succeeded once the killed workers' leases have expired.
      await poll(
        async () => (await db.client.countJobs()).Succeeded === JOBS,
        `all ${JOBS} jobs to succeed (seed ${SEED})`,
        30_000,
        50,
      ).catch(async (error: unknown) => {
        const stuck = (await db.client.listJobs({ type: CHAOS_JOB_TYPE, limit: 10_000 })).filter((job) => job.state !== 'Succeeded');
        const evidence = await Promise.all(
          stuck.slice(0, 5).map(async (job) => `job ${job.id}: ${JSON.stringify(await db.client.getHistory(job.id))}`),
        );
        throw new Error(`${(error as Error).message}; counts: ${JSON.stringify(await db.client.countJobs())}; ${evidence.join('; ')}`);
      });
      const drainMs = performance.now() - chaosEnded;
      for (const run of slots) {
        await stopChild(run.child);
        assertNoEngineErrors(run.child);
      }
      await assertAllSucceeded(db, JOBS);

      // Nothing lost, nothing doubled: exactly the 5,000 planned keys, one job each.
      const jobs = await db.client.listJobs({ type: CHAOS_JOB_TYPE, limit: 10_000 });
      assert.equal(jobs.length, JOBS);
      const keyById = new Map(jobs.map((job) => [job.id, keyOf(job.argsJson)]));
      assert.deepEqual(
        [...new Set(keyById.values())].sort(),
        plan
          .flat()
          .map((args) => args.key)
          .sort(),
        'one job per planned key',
      );

      // Every execution, from every worker's log.
      const executions = new Map<string, Execution[]>();
      for (const run of runs) {
        for (const event of readExecutionEvents(run.logFile)) {
          assert.equal(keyById.get(event.jobId), event.key, `${run.serverName} logged ${JSON.stringify(event)} for a job of another key`);
          const list = executions.get(event.jobId) ?? [];
          executions.set(event.jobId, list);
          recordEvent(list, run, event);
        }
      }

      let reExecutedJobs = 0;
      for (const job of jobs) {
        const list = (executions.get(job.id) ?? []).sort((a, b) => a.attempt - b.attempt);
        const history = await db.client.getHistory(job.id);
        const evidence = () => `job ${job.id} (seed ${SEED}): executions ${describe(list)}; history ${JSON.stringify(history)}`;
        assert.ok(list.length > 0, `${evidence()}: never executed`);
        assert.equal(new Set(list.map((execution) => execution.attempt)).size, list.length, `${evidence()}: two executions of one attempt`);
        // Every execution but the last was cut short by a SIGKILL: its worker was killed and never recorded its end.
        for (const execution of list.slice(0, -1)) {
          assert.ok(
            execution.run.killed && !execution.ended,
            `${evidence()}: re-executed after an execution not lost with a killed worker`,
          );
        }
        // The last one recorded its end, unless its worker was killed between the commit and the log line.
        const last = list.at(-1)!;
        assert.ok(last.ended || last.run.killed, `${evidence()}: the final execution never recorded its end`);
        assert.equal(last.attempt, job.attempt, `${evidence()}: the job's attempt count is its last execution's`);
        // The history agrees: each Processing before the last was ended by the expiry of a killed worker's lease.
        assert.equal(history.at(-1)?.name, 'Succeeded', evidence());
        const processing = history.flatMap((state, i) => (state.name === 'Processing' ? [i] : []));
        assert.equal(
          history[processing.at(-1)!]?.serverName,
          last.run.serverName,
          `${evidence()}: finished by the worker of its last execution`,
        );
        for (const i of processing.slice(0, -1)) {
          const lost = runs.find((run) => run.serverName === history[i]!.serverName);
          assert.ok(lost?.killed, `${evidence()}: a Processing of a worker that was not killed did not finish`);
          assert.equal(history[i + 1]?.name, 'Enqueued', evidence());
          assert.match(history[i + 1]!.reason ?? '', /lease/i, `${evidence()}: requeued because the lease expired`);
        }
        if (list.length > 1) reExecutedJobs++;
      }

      // The chaos hit running work: most kills left executions unfinished, so re-executions happened.
      const killedRuns = runs.filter((run) => run.killed);
      assert.equal(killedRuns.length, WORKER_KILLS);
      // Per kill: executions the worker left without an end; of those, how many ran again (the rest had
      // their Succeeded committed just before the kill, which then stopped the end's log line).
      const atDeath = killedRuns.map((run) => {
        const unfinished = [...executions.values()].flatMap((list) =>
          list.filter((execution) => execution.run === run && !execution.ended).map((execution) => execution !== list.at(-1)),
        );
        return { unfinished: unfinished.length, rerun: unfinished.filter(Boolean).length };
      });
      const killsWithWork = atDeath.filter((death) => death.unfinished > 0).length;
      const totalExecutions = [...executions.values()].reduce((sum, list) => sum + list.length, 0);
      assert.ok(killsWithWork >= WORKER_KILLS / 2, `only ${killsWithWork} of ${WORKER_KILLS} kills hit running jobs (seed ${SEED})`);
      assert.ok(reExecutedJobs > 0, 'some jobs ran again after their worker was killed');

      t.diagnostic(`seed ${SEED}; jobs: ${JOBS} in ${BATCHES} batches of ${BATCH_SIZE}; all Succeeded, one per key`);
      t.diagnostic(
        `producer SIGKILLed inside the transaction of batch ${stallAt.batch} after ${stallAt.rows} rows: ${producerOutcome.atKill} jobs present then (none of that batch); the restart wrote batches ${stallAt.batch}–${BATCHES - 1}`,
      );
      t.diagnostic(
        `worker SIGKILLs: ${WORKER_KILLS} (executions left unfinished at each death, of which re-run: ${atDeath.map((death) => `${death.unfinished}/${death.rerun}`).join(', ')}); worker processes: ${runs.length}`,
      );
      t.diagnostic(`executions: ${totalExecutions}; re-executions: ${totalExecutions - JOBS} (${reExecutedJobs} jobs ran more than once)`);
      t.diagnostic(
        `duration: ${Math.round(performance.now() - started)} ms (drain after the last kill: ${Math.round(drainMs)} ms, lease ${LEASE_MS} ms)`,
      );
    } finally {
      await killLeftoverChildren();
    }
  },
);

/** Keys of the chaos jobs in the file now. */
async function presentKeys(db: SharedDb): Promise<Set<string>> {
  return new Set((await db.client.listJobs({ type: CHAOS_JOB_TYPE, limit: 10_000 })).map((job) => keyOf(job.argsJson)));
}

/** Whether the worker's log shows a handler started and not finished. */
function isRunningAJob(run: WorkerRun): boolean {
  const open = new Set<string>();
  for (const event of readExecutionEvents(run.logFile)) {
    const id = `${event.jobId}#${event.attempt}`;
    if (event.event === 'S') open.add(id);
    else open.delete(id);
  }
  return open.size > 0;
}

/** Adds a logged event to a job's executions: `S` opens one, `E` closes the open one of its attempt. */
function recordEvent(list: Execution[], run: WorkerRun, event: ExecutionEvent): void {
  if (event.event === 'S') {
    list.push({ run, attempt: event.attempt, ended: false });
    return;
  }
  const execution = list.find((candidate) => candidate.run === run && candidate.attempt === event.attempt);
  assert.ok(
    execution && !execution.ended,
    `${run.serverName} logged the end of job ${event.jobId} attempt ${event.attempt} without its start`,
  );
  execution.ended = true;
}

function describe(list: readonly Execution[]): string {
  return JSON.stringify(
    list.map(
      (execution) =>
        `${execution.run.serverName}#${execution.attempt}${execution.ended ? ' ended' : ''}${execution.run.killed ? ' (killed)' : ''}`,
    ),
  );
}
