/**
 * Flow control under real concurrency on PostgreSQL: several stores, each with a pool of its own
 * (as separate worker processes would have), claim and finish jobs at the same time on one schema.
 * A monitor on a connection of its own counts the Processing jobs per key and per queue, each
 * count one snapshot of the database: a limit that any claim overstepped, even for an instant
 * between two commits, shows in it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { JobRecord } from 'pilotlight';
import type { ClaimRequest, NewJob, Transition } from 'pilotlight/store-kit';
import { newJob } from 'pilotlight/testing';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { dropSchemas, TEST_DATABASE_URL, testSchema } from './support/schemas.ts';

const WORKERS = 4;
const MINUTE = 60_000;

const schemas = new Set<string>();
after(() => dropSchemas(schemas));

/** `WORKERS` stores on one new schema, each with its own pool; closed after `body`, even if it fails. */
async function withWorkers(body: (stores: PostgresStore[], schema: string) => Promise<void>): Promise<void> {
  const schema = testSchema();
  schemas.add(schema);
  const stores: PostgresStore[] = [];
  try {
    for (let i = 0; i < WORKERS; i++) stores.push(await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 3 }));
    await body(stores, schema);
  } finally {
    for (const store of stores) await store.close();
  }
}

function claimRequest(serverName: string, limit: number, queues = ['default']): ClaimRequest {
  const now = new Date();
  return { queues, limit, serverName, now, leaseUntil: new Date(now.getTime() + MINUTE) };
}

function succeeded(job: JobRecord): Transition {
  return {
    id: job.id,
    job,
    expect: { state: 'Processing', attempt: job.attempt, serverName: job.serverName! },
    to: { name: 'Succeeded', at: new Date() },
  };
}

/**
 * Each store works as a worker of `slots` slots until every one of `total` jobs has succeeded: it
 * holds its claimed jobs a few ms, then records them and claims the next ones in one
 * transitionAndClaim (the path of a busy worker), or claims with claimJobs when it holds none.
 */
async function workUntilDone(stores: PostgresStore[], total: number, queues: string[], slots = 3): Promise<void> {
  let done = 0;
  const deadline = Date.now() + 60_000;
  await Promise.all(
    stores.map(async (store, i) => {
      const name = `worker-${i + 1}`;
      let running: JobRecord[] = [];
      while (done < total) {
        assert.ok(Date.now() < deadline, `${done} of ${total} jobs done after 60 s`);
        if (running.length === 0) {
          running = await store.claimJobs(claimRequest(name, slots, queues));
          if (running.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 6));
        const { transitioned, claimed } = await store.transitionAndClaim(running.map(succeeded), claimRequest(name, slots, queues));
        assert.ok(transitioned.every(Boolean), 'a worker recorded the outcome of each job it claimed');
        done += running.length;
        running = claimed;
      }
    }),
  );
}

/** Counts `sql`'s rows (`key`, `n`) every few ms until `stop()`; returns the highest `n` seen per key. */
function monitor(sql: string): { stop(): Promise<Map<string, number>> } {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const highest = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    await client.connect();
    try {
      while (!stopped) {
        const { rows } = await client.query<{ key: string; n: number }>(sql);
        for (const { key, n } of rows) highest.set(key, Math.max(highest.get(key) ?? 0, n));
      }
    } finally {
      await client.end();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return highest;
    },
  };
}

async function query<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

function jobs(count: number, make: (i: number) => Partial<NewJob>): NewJob[] {
  return Array.from({ length: count }, (_, i) => newJob({ ...make(i), state: { name: 'Enqueued', at: new Date() }, runAt: new Date() }));
}

describe('PostgreSQL flow control under concurrent workers (one pool each)', () => {
  it('concurrency keys: no key ever has more jobs Processing than its limit, and every job runs', () =>
    withWorkers(async (stores, schema) => {
      const limits: Record<string, number> = { a: 1, b: 2, c: 3 };
      const keyed = jobs(120, (i) => {
        const key = ['a', 'b', 'c'][i % 3]!;
        return { concurrency: { key, limit: limits[key]! } };
      });
      await stores[0]!.createJobs([...keyed, ...jobs(30, () => ({}))]);
      const watch = monitor(
        `SELECT concurrency_key AS key, count(*)::integer AS n FROM "${schema}".jobs WHERE state = 'Processing' AND concurrency_key IS NOT NULL GROUP BY 1`,
      );
      await workUntilDone(stores, 150, ['default']);
      const highest = await watch.stop();
      for (const [key, limit] of Object.entries(limits)) {
        assert.ok((highest.get(key) ?? 0) <= limit, `key ${key} (limit ${limit}) had ${highest.get(key)} jobs Processing at once`);
      }
      // The limits were reached: the test raced claims at the limit, not below it.
      assert.equal(highest.get('a'), 1);
      assert.equal((await stores[1]!.countJobs()).Succeeded, 150);
    }));

  it("a queue's concurrency limit holds across workers, while another queue of the same claims runs freely", () =>
    withWorkers(async (stores, schema) => {
      await stores[0]!.setQueueSettings('api', { concurrencyLimit: 3 });
      await stores[0]!.createJobs([...jobs(90, () => ({ queue: 'api' })), ...jobs(30, () => ({ queue: 'mail' }))]);
      const watch = monitor(`SELECT queue AS key, count(*)::integer AS n FROM "${schema}".jobs WHERE state = 'Processing' GROUP BY 1`);
      await workUntilDone(stores, 120, ['api', 'mail']);
      const highest = await watch.stop();
      assert.ok((highest.get('api') ?? 0) <= 3, `queue api (limit 3) had ${highest.get('api')} jobs Processing at once`);
      assert.equal((await stores[2]!.countJobs({ queue: 'api' })).Succeeded, 90);
    }));

  it('rate limits: racing claims never start more than max jobs of a key, nor of a queue, in a window', () =>
    withWorkers(async (stores) => {
      await stores[0]!.setQueueSettings('limited', { rateLimit: { max: 4, per: MINUTE } });
      await stores[0]!.createJobs([
        ...jobs(40, () => ({ rateLimit: { key: 'stripe', max: 5, per: MINUTE } })),
        ...jobs(40, () => ({ queue: 'limited' })),
        ...jobs(20, () => ({})),
      ]);
      const started: JobRecord[] = [];
      // Every worker claims again and again, at once, finishing what it got: 20 rounds of racing claims.
      for (let round = 0; round < 20; round++) {
        const claims = await Promise.all(
          stores.map((store, i) => store.claimJobs(claimRequest(`worker-${i + 1}`, 3, ['default', 'limited']))),
        );
        for (const [i, claimed] of claims.entries()) {
          started.push(...claimed);
          if (claimed.length > 0) await stores[i]!.transition(claimed.map(succeeded));
        }
      }
      assert.equal(new Set(started.map((job) => job.id)).size, started.length, 'a job started twice');
      assert.equal(started.filter((job) => job.rateLimit?.key === 'stripe').length, 5);
      assert.equal(started.filter((job) => job.queue === 'limited').length, 4);
      assert.equal(started.filter((job) => job.queue === 'default' && job.rateLimit === undefined).length, 20);
    }));

  it('debounce: racing producers, some in transactions of their own held open, leave exactly one waiting job of the key', () =>
    withWorkers(async (stores, schema) => {
      const perProducer = 15;
      const ids = await Promise.all(
        stores.map(async (store, i) => {
          const created: string[] = [];
          for (let n = 0; n < perProducer; n++) {
            const job = newJob({ debounceKey: 'report:42', argsJson: JSON.stringify([i, n]), state: { name: 'Enqueued', at: new Date() } });
            if (i % 2 === 0) {
              const [result] = await store.createJobs([job]);
              created.push(result!.id);
              continue;
            }
            // The application's own transaction, committed a little later: others race on the key meanwhile.
            const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
            await client.connect();
            try {
              await client.query('BEGIN');
              const [result] = await store.createJobs([job], client);
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
              await client.query('COMMIT');
              created.push(result!.id);
            } finally {
              await client.end();
            }
          }
          return created;
        }),
      );
      const all = ids.flat();
      assert.equal(new Set(all).size, WORKERS * perProducer, 'every producer created a job of its own');
      const rows = await query<{ state: string; reason: string | null }>(
        `SELECT state, state_reason AS reason FROM "${schema}".jobs WHERE debounce_key = 'report:42'`,
      );
      const waiting = rows.filter((row) => row.state === 'Enqueued');
      assert.equal(waiting.length, 1, 'one waiting job of the key');
      const deleted = rows.filter((row) => row.state === 'Deleted');
      assert.equal(deleted.length, WORKERS * perProducer - 1);
      assert.ok(
        deleted.every((row) => /^Debounced: replaced by job \d+$/.test(row.reason ?? '')),
        'each replaced job names its replacement',
      );
      const counts = await stores[3]!.countJobs();
      assert.equal(counts.Enqueued, 1);
      assert.equal(counts.Deleted, WORKERS * perProducer - 1);
    }));
});
