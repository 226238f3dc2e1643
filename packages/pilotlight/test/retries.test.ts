import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, retryDelay, UnrecoverableError } from '../src/index.ts';
import { tempStore, testClient, testWorker, waitForState } from './support/helpers.ts';

describe('failures and retries', () => {
  it('records the full history of a job that fails twice, then succeeds', async () => {
    const store = tempStore();
    const client = testClient(store);
    const flaky = defineJob('flaky', (_: void, context) => {
      if (context.attempt < 3) throw new TypeError(`boom ${context.attempt}`);
      return 'ok';
    });
    const worker = testWorker({ store, jobs: [flaky], retry: { backoff: 20 } });
    await worker.start();
    const id = await client.enqueue(flaky, undefined);
    const job = await waitForState(client, id, 'Succeeded');
    assert.equal(job.attempt, 3);
    assert.equal(job.retryCount, 2);
    const history = await client.getHistory(id);
    assert.deepEqual(
      history.map((state) => state.name),
      ['Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Succeeded'],
    );
    const [, firstRun, firstRetry, , secondRun, secondRetry] = history;
    assert.equal(firstRun!.attempt, 1);
    assert.equal(firstRun!.serverName, worker.name);
    assert.equal(secondRun!.attempt, 2);
    assert.equal(firstRetry!.retry, true);
    assert.equal(firstRetry!.error!.type, 'TypeError');
    assert.equal(firstRetry!.error!.message, 'boom 1');
    assert.match(firstRetry!.error!.stack!, /boom 1/);
    assert.match(firstRetry!.reason!, /^Retry 1 of 9 in 20 ms: boom 1$/);
    assert.match(secondRetry!.reason!, /^Retry 2 of 9/);
    assert.ok(firstRetry!.runAt!.getTime() >= firstRetry!.at.getTime() + 20);
    for (let i = 1; i < history.length; i++) assert.ok(history[i]!.at >= history[i - 1]!.at, 'history is in time order');
  });

  it('fails the job when attempts are exhausted, saying why', async () => {
    const store = tempStore();
    const client = testClient(store);
    let runs = 0;
    const broken = defineJob(
      'broken',
      () => {
        runs++;
        throw new Error('still broken');
      },
      { retry: { attempts: 3, backoff: [5, 10] } },
    );
    const worker = testWorker({ store, jobs: [broken] });
    await worker.start();
    const id = await client.enqueue(broken, undefined);
    const job = await waitForState(client, id, 'Failed');
    assert.equal(runs, 3);
    assert.equal(job.attempt, 3);
    assert.equal(job.retryCount, 2);
    const failed = (await client.getHistory(id)).at(-1)!;
    assert.equal(failed.name, 'Failed');
    assert.equal(failed.reason, 'Failed after 3 attempt(s), no retry left: still broken');
    assert.equal(failed.error!.message, 'still broken');
  });

  it('per-enqueue retry options win over the definition and the worker', async () => {
    const store = tempStore();
    const client = testClient(store);
    let runs = 0;
    const job = defineJob(
      'once',
      () => {
        runs++;
        throw new Error('no');
      },
      { retry: { attempts: 5 } },
    );
    const worker = testWorker({ store, jobs: [job], retry: { attempts: 7, backoff: 5 } });
    await worker.start();
    const id = await client.enqueue(job, undefined, { retry: { attempts: 1 } });
    await waitForState(client, id, 'Failed');
    assert.equal(runs, 1);
    assert.deepEqual((await client.getJob(id))!.retry, { attempts: 1 });
  });

  it('does not retry an UnrecoverableError', async () => {
    const store = tempStore();
    const client = testClient(store);
    let runs = 0;
    class BadInput extends UnrecoverableError {}
    const job = defineJob('validate', () => {
      runs++;
      throw new BadInput('tenant id is malformed');
    });
    const worker = testWorker({ store, jobs: [job] });
    await worker.start();
    const id = await client.enqueue(job, undefined);
    await waitForState(client, id, 'Failed');
    assert.equal(runs, 1);
    const failed = (await client.getHistory(id)).at(-1)!;
    assert.equal(failed.reason, 'Unrecoverable error, not retried: tenant id is malformed');
  });

  it('fails cleanly on a thrown non-Error value, an unknown job, an unknown method, and corrupt arguments; the worker keeps running', async () => {
    const store = tempStore();
    const client = testClient(store);
    const throwsString = defineJob('throws.string', () => {
      throw 'a plain string';
    });
    const unknown = defineJob('not.registered', () => undefined);
    class Known {
      present() {}
    }
    const healthy = defineJob('healthy', () => 'fine');
    const worker = testWorker({ store, jobs: [throwsString, Known, healthy], retry: { attempts: 1 } });
    await worker.start();
    const nonError = await client.enqueue(throwsString, undefined);
    const unknownType = await client.enqueue(unknown, undefined);
    // A job stored by a newer deployment: a method this worker's class lacks, arguments it cannot read.
    const [unknownMethod, corrupt] = await store.createJobs([{ ...raw('Known', 'absent', '[]') }, { ...raw('healthy', '', '{not json') }]);
    const reasons = async (id: string) => (await waitForState(client, id, 'Failed')).stateReason;
    assert.match((await reasons(nonError))!, /A non-Error value was thrown: a plain string/);
    assert.equal((await client.getHistory(nonError)).at(-1)!.error!.type, 'string');
    assert.match((await reasons(unknownType))!, /No job named 'not.registered' is registered on this worker/);
    assert.match((await reasons(unknownMethod!.id))!, /Job class 'Known' has no method 'absent'/);
    for (const id of [unknownType, unknownMethod!.id])
      assert.equal((await client.getHistory(id)).at(-1)!.error!.type, 'JobNotRegisteredError');
    assert.match((await reasons(corrupt!.id))!, /not valid JSON/);
    const after = await client.enqueue(healthy, undefined);
    await waitForState(client, after, 'Succeeded');
  });

  it("computes Hangfire's back-off, fixed delays and per-retry delays", () => {
    assert.equal(
      retryDelay('hangfire', 1, () => 0),
      15_000,
    );
    assert.equal(
      retryDelay('hangfire', 3, () => 0),
      (16 + 15) * 1000,
    );
    assert.equal(
      retryDelay('hangfire', 2, () => 0.999),
      (1 + 15 + 29 * 2) * 1000,
    );
    assert.equal(retryDelay(2_500, 7), 2_500);
    assert.deepEqual(
      [1, 2, 3, 4].map((retry) => retryDelay([100, 200, 300], retry)),
      [100, 200, 300, 300],
    );
  });
});

function raw(type: string, method: string, argsJson: string) {
  const at = new Date();
  return {
    type,
    method,
    argsJson,
    queue: 'default',
    priority: 0,
    retry: { attempts: 1 },
    state: { name: 'Enqueued' as const, at },
    runAt: at,
    metadata: {},
  };
}
