import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, createWorker, defineJob, JobTimeoutError, silentLogger } from 'pilotlight';
import { createPostgresStore } from '../src/index.ts';
import { waitFor } from '../../pilotlight/test/support/wait.ts';
import { ownSchema, TEST_DATABASE_URL } from './support/schemas.ts';

const schema = ownSchema();

describe('job timeouts on PostgreSQL', () => {
  it(
    'fails a hung attempt with JobTimeoutError under the retry policy; the per-call timeout travels in the stored retry options',
    { timeout: 30_000 },
    async () => {
      const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
      const reasons: unknown[] = [];
      const hang = defineJob('pg.timeouts.hang', async (_: void, ctx) => {
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        await sleep(1_000_000, undefined, { signal: ctx.signal });
      });
      const worker = createWorker({
        store,
        jobs: [hang],
        pollInterval: 20,
        maintenanceInterval: 20,
        heartbeatInterval: 50,
        leaseDuration: 2_000,
        logger: silentLogger,
      });
      try {
        const client = createClient({ store, logger: silentLogger });
        const id = await client.enqueue(hang, undefined, { timeout: 100, retry: { attempts: 2, backoff: 10 } });
        assert.deepEqual((await client.getJob(id))!.retry, { attempts: 2, backoff: 10, timeout: 100 });
        await worker.start();
        const failed = await waitFor(async () => {
          const job = await client.getJob(id);
          return job?.state === 'Failed' ? job : undefined;
        }, `job ${id} to fail`);
        assert.equal(failed.attempt, 2);
        assert.match(failed.stateReason!, /no retry left: .*timed out: attempt 2 ran longer than its timeout of 100 ms/);
        assert.equal(reasons.length, 2);
        assert.ok(reasons.every((reason) => reason instanceof JobTimeoutError));
        const history = await client.getHistory(id);
        assert.deepEqual(
          history.map((state) => state.name),
          ['Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Failed'],
        );
        assert.equal(history[2]!.error?.type, 'JobTimeoutError');
        assert.equal(history[5]!.error?.type, 'JobTimeoutError');
        assert.deepEqual(worker.stats, { running: 0, zombies: 0 });
      } finally {
        await worker.stop();
        await store.close();
      }
    },
  );
});
