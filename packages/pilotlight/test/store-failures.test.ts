import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, type Logger } from '../src/index.ts';
import { tempStore, testClient, testWorker, waitFor, wrapStore } from './support/helpers.ts';

/** A logger that keeps what the worker warned about and reported as errors; `debug` and `info` apart. */
function recordingLogger(): Logger & { lines: string[]; chatter: string[] } {
  const lines: string[] = [];
  const chatter: string[] = [];
  return {
    lines,
    chatter,
    debug: (message) => void chatter.push(`DEBUG ${message}`),
    info: (message) => void chatter.push(`INFO ${message}`),
    warn: (message) => void lines.push(`WARN ${message}`),
    error: (message) => void lines.push(`ERROR ${message}`),
  };
}

const outage = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('a worker facing store failures', () => {
  it('retries recording an outcome the store refuses, so that the job does not run again', async () => {
    const store = tempStore();
    const client = testClient(store);
    let refusals = 3;
    const refuse = () => {
      if (refusals <= 0) return false;
      refusals--;
      return true;
    };
    const flaky = wrapStore(store, {
      transition: async (changes) => {
        if (changes.some((change) => change.to.name === 'Succeeded') && refuse()) throw outage();
        return store.transition(changes);
      },
      transitionAndClaim: async (changes, claim) => {
        if (changes.some((change) => change.to.name === 'Succeeded') && refuse()) throw outage();
        return store.transitionAndClaim(changes, claim);
      },
    });
    const runs = new Map<string, number>();
    const job = defineJob(
      'flaky-store.work',
      async (_: number, context) => void runs.set(context.jobId, (runs.get(context.jobId) ?? 0) + 1),
    );
    const logger = recordingLogger();
    const worker = testWorker({ store: flaky, jobs: [job], logger });
    const ids = await client.enqueueMany(job, [1, 2, 3, 4, 5]);
    await worker.start();

    await waitFor(async () => (await client.countJobs()).Succeeded === 5, 'every job to succeed');
    assert.equal(refusals, 0, 'the store refused three commits of outcomes');
    assert.deepEqual([...runs.keys()].sort(), [...ids].sort());
    assert.ok(
      [...runs.values()].every((count) => count === 1),
      `each job ran once: ${JSON.stringify([...runs])}`,
    );
    for (const id of ids) {
      assert.deepEqual(
        (await client.getHistory(id)).map((state) => state.name),
        ['Enqueued', 'Processing', 'Succeeded'],
      );
    }
    // One warning for the streak, not one per refusal; each job's tries at debug level; the end of the streak at info.
    assert.deepEqual(
      logger.lines.map((line) => line.replace(/Worker \S+/, 'Worker W')),
      ['WARN Worker W could not record the outcomes of finished jobs; retrying each with a back-off up to 2000 ms'],
    );
    const chatter = logger.chatter.join('\n');
    assert.match(chatter, /DEBUG .* could not record the outcome of job \d+ \(Succeeded\), try 1; retrying in 50 ms/);
    assert.match(chatter, /DEBUG .* recorded the outcome of job \d+ \(Succeeded\) at try [2-4]/);
    assert.match(chatter, /INFO .* records the outcomes of jobs again after \d+ failures over \d+ s/);
  });

  it('stops retrying when stopped: stop() ends, and the job is left for its lease to expire', async () => {
    const store = tempStore();
    const client = testClient(store);
    const down = wrapStore(store, {
      transition: async () => {
        throw outage();
      },
      transitionAndClaim: async () => {
        throw outage();
      },
    });
    const job = defineJob('flaky-store.stuck', async (_: number) => undefined);
    const logger = recordingLogger();
    const worker = testWorker({ store: down, jobs: [job], logger, shutdownTimeout: 200 });
    const [id] = await client.enqueueMany(job, [1]);
    await worker.start();
    await waitFor(() => logger.chatter.some((line) => line.includes(`could not record the outcome of job ${id}`)), 'a refused outcome');

    const stopping = Date.now();
    await worker.stop();
    assert.ok(Date.now() - stopping < 3_000, `stop() gave up within its timeouts (${Date.now() - stopping} ms)`);
    assert.equal(worker.runningCount, 0);
    assert.ok(
      logger.lines.some((line) => line.startsWith(`ERROR`) && line.includes(`failed recording the outcome of job ${id}`)),
      logger.lines.join('\n'),
    );
    const left = await client.getJob(id!);
    assert.equal(left?.state, 'Processing', 'left Processing: its lease expires, and another worker requeues it');
    assert.equal(left?.serverName, worker.name);
  });

  it('hands back jobs a claim took although its reply was lost, instead of holding them forever', async () => {
    const store = tempStore();
    const client = testClient(store);
    let lostReplies = 1;
    const claimedByLostReply: string[] = [];
    const lossy = wrapStore(store, {
      claimJobs: async (request) => {
        const claimed = await store.claimJobs(request);
        if (claimed.length > 0 && lostReplies > 0) {
          lostReplies--;
          claimedByLostReply.push(...claimed.map((job) => job.id));
          throw Object.assign(new Error('Connection terminated unexpectedly'), {}); // committed, but the reply never came
        }
        return claimed;
      },
    });
    const runs: { id: string; attempt: number }[] = [];
    const job = defineJob(
      'flaky-store.claimed',
      async (_: number, context) => void runs.push({ id: context.jobId, attempt: context.attempt }),
    );
    const logger = recordingLogger();
    const ids = await client.enqueueMany(job, [1, 2, 3]);
    const worker = testWorker({ store: lossy, jobs: [job], logger, leaseDuration: 60_000 });
    await worker.start();

    await waitFor(async () => (await client.countJobs()).Succeeded === 3, 'every job to succeed (well before the 60 s lease)');
    assert.deepEqual([...claimedByLostReply].sort(), [...ids].sort(), 'the lost claim took all three jobs');
    assert.deepEqual(runs.map((run) => run.id).sort(), [...ids].sort(), 'each job ran once');
    assert.ok(
      runs.every((run) => run.attempt === 1),
      `in attempt 1: the lost claim gave its attempt back: ${JSON.stringify(runs)}`,
    );
    for (const id of ids) {
      const history = await client.getHistory(id);
      assert.deepEqual(
        history.map((state) => state.name),
        ['Enqueued', 'Processing', 'Enqueued', 'Processing', 'Succeeded'],
      );
      assert.match(history[2]!.reason ?? '', /held it without running it .* handed back/);
    }
    assert.ok(
      logger.lines.some((line) => /WARN .* holds job \d+ \(attempt 1\) without running it; handing it back/.test(line)),
      logger.lines.join('\n'),
    );
  });

  it('leaves alone the jobs it is running and finishing: no hand-back in a busy worker', async () => {
    const store = tempStore();
    const client = testClient(store);
    const runs = new Map<string, number>();
    const job = defineJob('busy.work', async (_: number, context) => {
      runs.set(context.jobId, (runs.get(context.jobId) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, (Number(context.jobId) % 7) * 5));
    });
    const logger = recordingLogger();
    const worker = testWorker({ store, jobs: [job], logger, concurrency: 5, heartbeatInterval: 10 });
    await worker.start();
    const ids = await client.enqueueMany(
      job,
      Array.from({ length: 300 }, (_, i) => i),
    );
    await waitFor(async () => (await client.countJobs()).Succeeded === 300, 'every job to succeed', 30_000);
    assert.equal(runs.size, 300);
    assert.ok(
      [...runs.values()].every((count) => count === 1),
      'each job ran once',
    );
    assert.deepEqual(logger.lines, [], 'nothing handed back, nothing logged');
    assert.equal(ids.length, 300);
  });
});
