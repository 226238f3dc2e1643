import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient, createWorker, defineJob, silentLogger, ValidationError, type Client } from 'pilotlight';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { waitFor } from '../../pilotlight/test/support/wait.ts';
import { ownSchema, TEST_DATABASE_URL } from './support/schemas.ts';

/** The application's own pool and table, next to the jobs. */
const app = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
let store: PostgresStore;
let client: Client<pg.ClientBase>;
const schema = ownSchema(async () => {
  try {
    await store?.close();
  } finally {
    await app.end();
  }
});

before(async () => {
  store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
  client = createClient({ store, logger: silentLogger });
  await app.query(`CREATE TABLE "${schema}".orders (id SERIAL PRIMARY KEY, item TEXT NOT NULL)`);
});

const receipts: number[] = [];
const sendReceipt = defineJob('orders.sendReceipt', async (orderId: number) => void receipts.push(orderId));

/** BEGIN on a client of the application's pool, `work`, then COMMIT or ROLLBACK; the client is released. */
async function inTransaction<T>(end: 'COMMIT' | 'ROLLBACK', work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await app.connect();
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query(end);
    return result;
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  } finally {
    db.release();
  }
}

async function placeOrder(db: pg.PoolClient, item: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(`INSERT INTO "${schema}".orders (item) VALUES ($1) RETURNING id`, [item]);
  return rows[0]!.id;
}

describe('transactional enqueue with the application\u2019s own pg client', () => {
  it('a rolled-back transaction leaves no job; a committed one leaves a job that runs', { timeout: 30_000 }, async () => {
    const worker = createWorker({ store, jobs: [sendReceipt], logger: silentLogger, pollInterval: 60_000 });
    await worker.start();
    try {
      const rolledBack = await inTransaction('ROLLBACK', async (db) => {
        const orderId = await placeOrder(db, 'rolled back');
        return { orderId, jobId: await client.enqueue(sendReceipt, orderId, { transaction: db }) };
      });
      assert.equal(await client.getJob(rolledBack.jobId), undefined, 'the rolled-back job does not exist');

      const committed = await inTransaction('COMMIT', async (db) => {
        const orderId = await placeOrder(db, 'committed');
        const jobId = await client.enqueue(sendReceipt, orderId, { transaction: db });
        assert.equal(await client.getJob(jobId), undefined, 'invisible to other connections before the commit');
        return { orderId, jobId };
      });
      // The worker polls once a minute: only the NOTIFY sent at commit can wake it this soon.
      await waitFor(async () => (await client.getJob(committed.jobId))?.state === 'Succeeded', 'the committed job to run', 5_000);
      assert.deepEqual(receipts, [committed.orderId], 'only the committed order got a receipt');
      assert.deepEqual(await client.countJobs().then((counts) => counts.Succeeded), 1);
    } finally {
      await worker.stop();
    }
  });

  it('takes continuations, dedup keys and enqueueMany inside the transaction too', async () => {
    const ids = await inTransaction('ROLLBACK', async (db) => {
      const parent = await client.schedule(sendReceipt, 1, { delay: 60_000, transaction: db });
      const child = await client.continueWith(parent, sendReceipt, 2, { transaction: db });
      const keyed = await client.enqueue(sendReceipt, 3, { dedupKey: 'receipt-3', transaction: db });
      const again = await client.enqueue(sendReceipt, 3, { dedupKey: 'receipt-3', transaction: db });
      assert.equal(again, keyed, 'the dedup key is held inside the transaction');
      const many = await client.enqueueMany(sendReceipt, [4, 5, 6], { transaction: db });
      assert.equal(new Set(many).size, 3);
      return [parent, child, keyed, ...many];
    });
    for (const id of ids) assert.equal(await client.getJob(id), undefined, `job ${id} rolled back`);
    // The key is free again: the holder never existed.
    const fresh = await client.enqueue(sendReceipt, 3, { dedupKey: 'receipt-3' });
    assert.ok(!ids.includes(fresh));
    await client.delete(fresh);
  });

  it('a transaction that fails after the enqueue leaves no job', async () => {
    await assert.rejects(
      inTransaction('COMMIT', async (db) => {
        await client.enqueue(sendReceipt, 7, { transaction: db });
        await db.query('SELECT 1/0');
      }),
      /division by zero/,
    );
    const counts = await client.countJobs();
    assert.equal(counts.Enqueued, 0);
  });

  it('rejects a pool or anything that is not a pg client, saying what to pass', async () => {
    await assert.rejects(
      // @ts-expect-error a pool is not a transaction
      client.enqueue(sendReceipt, 8, { transaction: app }),
      (error: unknown) =>
        error instanceof ValidationError && /not a pg\.Pool/.test(error.message) && /pool\.connect\(\)/.test(error.message),
    );
    await assert.rejects(
      // @ts-expect-error not a client
      client.enqueue(sendReceipt, 8, { transaction: { begin: true } }),
      (error: unknown) =>
        error instanceof ValidationError &&
        /options\.transaction must be the pg client you ran BEGIN on; received an object/.test(error.message),
    );
    assert.equal((await client.countJobs()).Enqueued, 0);
  });
});
