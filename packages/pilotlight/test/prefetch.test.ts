import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, ValidationError, createWorker } from '../src/index.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState, wrapStore } from './support/helpers.ts';

/** A job whose calls each wait for the test to let them go (or for their abort signal). */
function steppedJob() {
  const started: number[] = [];
  const gates: (() => void)[] = [];
  let active = 0;
  let maxActive = 0;
  const job = defineJob('prefetch.step', async (n: number, context) => {
    started.push(n);
    maxActive = Math.max(maxActive, ++active);
    try {
      await new Promise<void>((resolve, reject) => {
        gates.push(resolve);
        context.signal.addEventListener('abort', () => reject(context.signal.reason));
      });
    } finally {
      active--;
    }
  });
  return {
    job,
    started,
    get maxActive() {
      return maxActive;
    },
    /** Lets the oldest waiting call finish. */
    releaseOne: () => gates.shift()!(),
  };
}

describe('prefetch', () => {
  it('holds concurrency + prefetch jobs, runs concurrency of them at once, in claim order', async () => {
    const store = tempStore();
    const client = testClient(store);
    const step = steppedJob();
    const worker = testWorker({ store, jobs: [step.job], concurrency: 1, prefetch: 2 });
    const ids = await client.enqueueMany(step.job, [0, 1, 2, 3, 4]);
    await worker.start();

    await waitFor(() => step.started.length === 1, 'the first job to start');
    await waitFor(async () => (await client.countJobs()).Processing === 3, 'three jobs held');
    assert.equal(worker.runningCount, 1, 'prefetched jobs are held, not running');
    assert.deepEqual(
      (await client.listJobs({ state: 'Processing' })).map((job) => job.id).sort(),
      ids.slice(0, 3).sort(),
      'the first three in claim order are held',
    );
    for (let n = 1; n <= 4; n++) {
      step.releaseOne();
      await waitFor(() => step.started.length === n + 1, `job ${n} to start`);
    }
    step.releaseOne();
    await waitFor(async () => (await client.countJobs()).Succeeded === 5, 'every job to succeed');
    assert.deepEqual(step.started, [0, 1, 2, 3, 4], 'started in claim order');
    assert.equal(step.maxActive, 1, 'never more handlers at once than concurrency');
    for (const id of ids) assert.equal((await client.getJob(id))!.attempt, 1, `job ${id} ran once`);
  });

  it('stop() hands back prefetched jobs that never started, without spending an attempt', async () => {
    const store = tempStore();
    const client = testClient(store);
    const step = steppedJob();
    const worker = testWorker({ store, jobs: [step.job], concurrency: 1, prefetch: 3, shutdownTimeout: 2_000 });
    const ids = await client.enqueueMany(step.job, [0, 1, 2, 3]);
    await worker.start();
    await waitFor(async () => (await client.countJobs()).Processing === 4, 'four jobs held');
    await waitFor(() => step.started.length === 1, 'the first job to start');

    const stopping = worker.stop();
    // The held jobs go back at once, while the running one is still given its shutdownTimeout.
    await waitFor(async () => (await client.countJobs()).Enqueued === 3, 'the three held jobs back in the queue', 1_500);
    step.releaseOne();
    await stopping;

    assert.deepEqual(step.started, [0], 'no held job ran');
    assert.equal((await client.getJob(ids[0]!))!.state, 'Succeeded');
    for (const id of ids.slice(1)) {
      const job = (await client.getJob(id))!;
      assert.equal(job.state, 'Enqueued');
      assert.equal(job.attempt, 0, 'the attempt is given back');
      assert.match(job.stateReason ?? '', /stopped before starting it/);
    }
  });

  it('drops a prefetched job deleted while it waited: it never runs', async () => {
    const store = tempStore();
    const client = testClient(store);
    const step = steppedJob();
    const worker = testWorker({ store, jobs: [step.job], concurrency: 1, prefetch: 1 });
    const [first, second] = await client.enqueueMany(step.job, [0, 1]);
    await worker.start();
    await waitFor(async () => (await client.countJobs()).Processing === 2, 'both jobs held');
    assert.equal(await client.delete(second!, 'not needed'), true);
    step.releaseOne();
    await waitForState(client, first!, 'Succeeded');
    await new Promise((resolve) => setTimeout(resolve, 100)); // time for the deleted one to run, were it to
    assert.deepEqual(step.started, [0]);
    assert.equal((await client.getJob(second!))!.state, 'Deleted');
  });

  it('starts the next job while the last outcome is still being recorded', async () => {
    const store = tempStore();
    const client = testClient(store);
    let releaseCommits!: () => void;
    const commitsHeld = new Promise<void>((resolve) => (releaseCommits = resolve));
    let heldCommits = 0;
    const hold = async <T>(changes: readonly unknown[], commit: () => Promise<T>): Promise<T> => {
      if (changes.length > 0) {
        heldCommits++;
        await commitsHeld;
      }
      return commit();
    };
    const slowCommits = wrapStore(store, {
      transitionAndClaim: (changes, claim) => hold(changes, () => store.transitionAndClaim(changes, claim)),
      transition: (changes) => hold(changes, () => store.transition(changes)),
    });
    const ran: number[] = [];
    const job = defineJob('prefetch.quick', async (n: number) => void ran.push(n));
    const worker = testWorker({ store: slowCommits, jobs: [job], concurrency: 1, prefetch: 1 });
    await client.enqueueMany(job, [0, 1]);
    await worker.start();
    await waitFor(() => ran.length === 2 && heldCommits >= 1, 'the second job to run, the first outcome held');
    assert.equal((await client.countJobs()).Succeeded, 0, 'and not recorded yet when the second job ran');
    releaseCommits();
    await waitFor(async () => (await client.countJobs()).Succeeded === 2, 'both outcomes recorded');
  });

  it('hands back, unstarted, the jobs a commit in flight when stop() began claims', async () => {
    const store = tempStore();
    const client = testClient(store);
    let reachedCommit!: () => void;
    const commitReached = new Promise<void>((resolve) => (reachedCommit = resolve));
    let releaseCommit!: () => void;
    const commitReleased = new Promise<void>((resolve) => (releaseCommit = resolve));
    const gated = wrapStore(store, {
      transitionAndClaim: async (changes, claim) => {
        if (changes.length > 0 && claim) {
          reachedCommit();
          await commitReleased;
        }
        return store.transitionAndClaim(changes, claim);
      },
    });
    const ran: number[] = [];
    const job = defineJob('prefetch.inflight', async (n: number) => void ran.push(n));
    const worker = testWorker({ store: gated, jobs: [job], concurrency: 1 });
    const [first, second] = await client.enqueueMany(job, [1, 2]);
    await worker.start();
    await commitReached; // job 1 done; its outcome and the claim of job 2 are on their way
    const stopping = worker.stop();
    releaseCommit();
    await stopping;

    assert.deepEqual(ran, [1]);
    assert.equal((await client.getJob(first!))!.state, 'Succeeded');
    const handedBack = (await client.getJob(second!))!;
    assert.equal(handedBack.state, 'Enqueued');
    assert.equal(handedBack.attempt, 0);
    assert.deepEqual(
      (await client.getHistory(second!)).map((state) => state.name),
      ['Enqueued', 'Processing', 'Enqueued'],
    );
  });

  it('rejects a prefetch that is not an integer from 0 to 10000, naming the option', () => {
    const store = tempStore();
    for (const prefetch of [-1, 1.5, 10_001, '5']) {
      assert.throws(
        () => createWorker({ store, jobs: [], prefetch: prefetch as number }),
        (error: unknown) => error instanceof ValidationError && /options\.prefetch/.test(error.message),
      );
    }
  });
});
