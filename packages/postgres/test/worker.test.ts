import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, createWorker, defineJob, silentLogger, type Client, type Logger } from 'pilotlight';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { waitFor } from '../../pilotlight/test/support/wait.ts';
import { ownSchema, TEST_DATABASE_URL } from './support/schemas.ts';

const schema = ownSchema();

async function allInState(client: Client, ids: readonly string[], state: string): Promise<boolean> {
  for (const id of ids) if ((await client.getJob(id))?.state !== state) return false;
  return true;
}

describe('PostgresStore with the engine (client and two workers on separate stores)', () => {
  it(
    'runs every job once successfully across two workers, with retries, a continuation and a dedup key; NOTIFY wakes idle workers',
    { timeout: 60_000 },
    async () => {
      const stores: PostgresStore[] = [];
      const open = async () => {
        const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
        stores.push(store);
        return store;
      };
      const [apiStore, storeA, storeB] = [await open(), await open(), await open()];
      // Errors the engine logs (a failed store call, say) are part of the verdict.
      const logged: string[] = [];
      const logger: Logger = {
        ...silentLogger,
        warn: (message, details) => void logged.push(`warn: ${message} ${String(details?.error ?? '')}`),
        error: (message, details) => void logged.push(`error: ${message} ${String(details?.error ?? '')}`),
      };
      const runs = new Map<number, number>();
      const failedOnce = new Set<number>();
      const work = defineJob('pg.work', async (n: number) => {
        if (n % 10 === 0 && !failedOnce.has(n)) {
          failedOnce.add(n);
          throw new Error(`transient failure of ${n}`);
        }
        runs.set(n, (runs.get(n) ?? 0) + 1);
      });
      const done = defineJob('pg.done', async (_: string) => undefined);
      // A long poll interval: a job starting quickly proves the wake-up came through LISTEN/NOTIFY.
      const workerOptions = {
        jobs: [work, done],
        concurrency: 5,
        pollInterval: 10_000,
        maintenanceInterval: 50,
        heartbeatInterval: 100,
        retry: { backoff: 10 },
        logger,
      };
      const workers = [createWorker({ ...workerOptions, store: storeA }), createWorker({ ...workerOptions, store: storeB })];
      const client = createClient({ store: apiStore, logger: silentLogger });
      try {
        for (const worker of workers) await worker.start();
        await new Promise((resolve) => setTimeout(resolve, 200)); // both idle, waiting for a wake

        const started = Date.now();
        const first = await client.enqueue(work, 1);
        await waitFor(async () => (await client.getJob(first))?.state === 'Succeeded', 'the first job', 2_000);
        assert.ok(Date.now() - started < 2_000, 'woken well before the 10 s poll');

        const ids = await client.enqueueMany(
          work,
          Array.from({ length: 99 }, (_, i) => i + 2),
        );
        const continuation = await client.continueWith(ids.at(-1)!, done, 'after the last');
        const deduped = await client.enqueue(done, 'once', { dedupKey: 'pg-once' });
        assert.equal(await client.enqueue(done, 'twice', { dedupKey: 'pg-once' }), deduped);

        const all = [first, ...ids, continuation, deduped];
        try {
          await waitFor(() => allInState(client, all, 'Succeeded'), 'every job to succeed', 15_000);
        } catch (error) {
          const stuck = [];
          for (const id of all) {
            const job = await client.getJob(id);
            if (job?.state !== 'Succeeded') stuck.push({ id, state: job?.state, history: await client.getHistory(id) });
          }
          throw new Error(
            `${String(error)}; logged: ${JSON.stringify(logged)}; not succeeded: ${JSON.stringify(stuck.map((job) => ({ id: job.id, state: job.state })))}`,
          );
        }
        assert.deepEqual(logged, []);
        assert.equal(runs.size, 100);
        assert.ok(
          [...runs.values()].every((count) => count === 1),
          'each job succeeded exactly once',
        );
        const retried = await client.getHistory(ids[8]!); // n = 10 failed once
        assert.deepEqual(
          retried.map((state) => state.name),
          ['Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Succeeded'],
        );
        assert.equal((await client.getJob(ids[8]!))?.retryCount, 1);
      } finally {
        for (const worker of workers) await worker.stop();
        for (const store of stores) await store.close();
      }
    },
  );
});
