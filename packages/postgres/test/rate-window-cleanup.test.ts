/**
 * Maintenance forgets closed rate-limit windows on PostgreSQL (`deleteExpiredJobs`), so that a key
 * used once does not keep a row. A closed window counts for nothing, so the store's interface
 * cannot tell whether it is still there: these tests count the rows of their own schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import type { JobRecord } from 'pilotlight';
import type { RateLimit } from 'pilotlight/store-kit';
import { newJob } from 'pilotlight/testing';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { FORGET_CLOSED_WINDOW_AFTER_MS } from '../src/rate-limit-sql.ts';
import { ownSchema, TEST_DATABASE_URL } from './support/schemas.ts';

const MINUTE = 60_000;

/** A store on a schema of its own, closed and dropped after the file's tests. */
async function openStore(): Promise<PostgresStore> {
  let store: PostgresStore | undefined;
  const schema = ownSchema(() => store?.close() ?? Promise.resolve());
  store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 3 });
  return store;
}

async function withClient<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** The store's windows, as `kind:key` with their start (epoch ms), in key order. */
async function windows(store: PostgresStore): Promise<{ window: string; start: number }[]> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ window: string; start: number }>(
      `SELECT kind || ':' || key AS window, (extract(epoch FROM window_start) * 1000)::float8 AS start
       FROM "${store.schema}".rate_windows ORDER BY kind, key`,
    );
    return rows;
  });
}

function limited(rateLimit: RateLimit, queue = 'default') {
  return newJob({ rateLimit, queue });
}

async function claimAt(store: PostgresStore, now: Date, queues = ['default']): Promise<JobRecord[]> {
  return store.claimJobs({ queues, limit: 10, serverName: 'worker-1', now, leaseUntil: new Date(now.getTime() + MINUTE) });
}

describe('PostgreSQL rate-limit windows and maintenance', () => {
  it('forgets a window a margin after it closed (job keys and queue limits), keeps the open ones, and a later start opens a fresh window', async () => {
    const store = await openStore();
    await store.setQueueSettings('limited', { rateLimit: { max: 1, per: MINUTE } });
    await store.createJobs([
      limited({ key: 'short', max: 1, per: MINUTE }),
      limited({ key: 'long', max: 1, per: 10 * MINUTE }),
      newJob({ queue: 'limited' }),
    ]);
    const now = new Date();
    assert.equal((await claimAt(store, now, ['default', 'limited'])).length, 3, 'each limit lets one start');
    const opened = ['job:long', 'job:short', 'queue:limited'];
    assert.deepEqual(
      (await windows(store)).map((row) => row.window),
      opened,
    );

    const closed = now.getTime() + MINUTE; // when 'short' and the queue's windows close
    await store.deleteExpiredJobs(new Date(closed + FORGET_CLOSED_WINDOW_AFTER_MS - 1_000), 100);
    assert.deepEqual(
      (await windows(store)).map((row) => row.window),
      opened,
      'closed within the margin: kept',
    );

    const later = new Date(closed + FORGET_CLOSED_WINDOW_AFTER_MS + 1);
    await store.deleteExpiredJobs(later, 100);
    assert.deepEqual(
      (await windows(store)).map((row) => row.window),
      ['job:long'],
      'the closed windows are gone, the open one stays',
    );

    // The open window still counts its start; the forgotten ones give way to new windows.
    await store.createJobs([limited({ key: 'short', max: 1, per: MINUTE }), limited({ key: 'long', max: 1, per: 10 * MINUTE })]);
    const claimed = await claimAt(store, later);
    assert.deepEqual(
      claimed.map((job) => job.rateLimit?.key),
      ['short'],
      "'long' is still full",
    );
    assert.deepEqual(await windows(store), [
      { window: 'job:long', start: now.getTime() },
      { window: 'job:short', start: later.getTime() },
    ]);
  });

  it('forgets at most `limit` windows a call', async () => {
    const store = await openStore();
    await store.createJobs(['a', 'b', 'c'].map((key) => limited({ key, max: 1, per: MINUTE })));
    const now = new Date();
    assert.equal((await claimAt(store, now)).length, 3);
    const after = new Date(now.getTime() + MINUTE + FORGET_CLOSED_WINDOW_AFTER_MS + 1);
    await store.deleteExpiredJobs(after, 2);
    assert.equal((await windows(store)).length, 1, 'two of the three closed windows forgotten');
    await store.deleteExpiredJobs(after, 2);
    assert.deepEqual(await windows(store), [], 'the third at the next call');
  });

  it(
    'passes over a window that another transaction holds locked (as a claim rewriting it does), without waiting for it',
    { timeout: 30_000 },
    async () => {
      const store = await openStore();
      await store.createJobs([limited({ key: 'held', max: 1, per: MINUTE }), limited({ key: 'free', max: 1, per: MINUTE })]);
      const now = new Date();
      assert.equal((await claimAt(store, now)).length, 2);
      const after = new Date(now.getTime() + MINUTE + FORGET_CLOSED_WINDOW_AFTER_MS + 1);
      await withClient(async (client) => {
        await client.query('BEGIN');
        try {
          await client.query(`SELECT 1 FROM "${store.schema}".rate_windows WHERE kind = 'job' AND key = 'held' FOR UPDATE`);
          // Were maintenance to wait for the lock, this would never return while the transaction is open.
          await store.deleteExpiredJobs(after, 100);
          assert.deepEqual(
            (await windows(store)).map((row) => row.window),
            ['job:held'],
          );
        } finally {
          await client.query('COMMIT');
        }
      });
      await store.deleteExpiredJobs(after, 100);
      assert.deepEqual(await windows(store), [], 'forgotten once the lock is released');
    },
  );
});
