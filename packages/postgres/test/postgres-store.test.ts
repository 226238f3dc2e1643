import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ValidationError, type StateName } from 'pilotlight';
import { type StoreEvent } from 'pilotlight/store-kit';
import { newJob, storeContract } from 'pilotlight/testing';
import { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../src/index.ts';
import { POSTGRES_MIGRATIONS } from '../src/migrations.ts';
import { assertLegacyCounted, legacyMinute, legacyRows } from '../../pilotlight/test/support/migration-3-rows.ts';
import { waitFor } from '../../pilotlight/test/support/wait.ts';
import { dropSchemas, dropStaleTestSchemas, STALE_AFTER_MS, TEST_DATABASE_URL, testSchema } from './support/schemas.ts';

const ALL_STATES: readonly StateName[] = ['Enqueued', 'Scheduled', 'Awaiting', 'Processing', 'Succeeded', 'Failed', 'Deleted'];

/** Every schema a test created, dropped when the file is done. */
const schemas = new Set<string>();
function freshSchema(now?: number): string {
  const schema = testSchema(now);
  schemas.add(schema);
  return schema;
}

// Leftovers of runs killed before their after() hooks: never a schema another run may be using.
before(() => dropStaleTestSchemas(TEST_DATABASE_URL));

after(() => dropSchemas(schemas));

/** The constraints migration 2 adds (see migrations.ts). */
const CHECK_CONSTRAINTS = ['jobs_state_known', 'jobs_processing_leased', 'jobs_metadata_object', 'jobs_retry_object'];

/** Runs `sql` in `schema` through a connection of its own, the schema's constraints dropped first. */
async function corrupt(schema: string, sql: string): Promise<void> {
  await withClient(async (client) => {
    await client.query(`SET search_path TO "${schema}"`);
    for (const name of CHECK_CONSTRAINTS) await client.query(`ALTER TABLE jobs DROP CONSTRAINT IF EXISTS ${name}`);
    await client.query(sql);
  });
}

storeContract('PostgresStore', () => createPostgresStore({ connectionString: TEST_DATABASE_URL, schema: freshSchema(), poolSize: 4 }), {
  corrupt: (store, sql) => corrupt((store as PostgresStore).schema, sql),
});

/** Opens stores and closes them at the end of the test, even when it fails. */
async function withStores<T>(body: (open: (options?: PostgresStoreOptions) => Promise<PostgresStore>) => Promise<T>): Promise<T> {
  const opened: PostgresStore[] = [];
  try {
    return await body(async (options = {}) => {
      const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, poolSize: 3, ...options });
      opened.push(store);
      return store;
    });
  } finally {
    for (const store of opened) await store.close();
  }
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

describe('PostgresStore (PostgreSQL specifics)', () => {
  it('runs each migration once when three stores start at once on a new schema', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const stores = await Promise.all([open({ schema }), open({ schema }), open({ schema })]);
      const [created] = await stores[0]!.createJobs([newJob({ type: 'Shared' })]);
      assert.equal((await stores[2]!.getJob(created!.id))?.type, 'Shared');
      await stores[1]!.migrate();
      const versions = await withClient(
        async (client) => (await client.query(`SELECT version FROM "${schema}".migrations ORDER BY version`)).rows,
      );
      assert.deepEqual(
        versions,
        POSTGRES_MIGRATIONS.map((_, i) => ({ version: i + 1 })),
      );
    }));

  it('two stores (separate pools) claiming at once never take the same job, and take them all', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const a = await open({ schema, poolSize: 5 });
      const b = await open({ schema, poolSize: 5 });
      const created = await a.createJobs(Array.from({ length: 60 }, (_, i) => newJob({ priority: i % 3 })));
      const claims = (name: string, store: PostgresStore) =>
        Promise.all(
          Array.from({ length: 10 }, () =>
            store.claimJobs({
              queues: ['default'],
              limit: 3,
              serverName: name,
              now: new Date(),
              leaseUntil: new Date(Date.now() + 30_000),
            }),
          ),
        );
      const ids = (await Promise.all([claims('a', a), claims('b', b)])).flat(2).map((claimed) => claimed.id);
      assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
      assert.deepEqual([...ids].sort(), created.map((result) => result.id).sort());
    }));

  it('two stores creating the same dedup key at once create one job and both name it', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const a = await open({ schema });
      const b = await open({ schema });
      for (let round = 0; round < 10; round++) {
        const results = (await Promise.all([a, b, a, b].map((store) => store.createJobs([newJob({ dedupKey: `key-${round}` })])))).flat();
        assert.equal(results.filter((result) => result.created).length, 1);
        assert.equal(new Set(results.map((result) => result.id)).size, 1);
      }
    }));

  it('a continuation created while its parent finishes waits for the parent row and sees its final state', () =>
    withStores(async (open) => {
      const store = await open({ schema: freshSchema() });
      const schema = store.schema;
      const [parent] = await store.createJobs([newJob()]);
      await withClient(async (client) => {
        await client.query('BEGIN');
        await client.query(`UPDATE "${schema}".jobs SET state = 'Succeeded' WHERE id = $1`, [parent!.id]);
        let settled = false;
        const creating = store
          .createJobs([newJob({ parentId: parent!.id, state: { name: 'Awaiting', at: new Date() } })])
          .finally(() => (settled = true));
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(settled, false, 'createJobs waits for the transaction finishing the parent');
        await client.query('COMMIT');
        const [child] = await creating;
        assert.equal(child!.parentState, 'Succeeded');
      });
      assert.equal((await store.getJob(parent!.id))?.hasContinuations, true);
    }));

  it('batches over the same jobs in opposite orders and heartbeats, from two stores at once, neither deadlock nor fail', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const a = await open({ schema, poolSize: 4 });
      const b = await open({ schema, poolSize: 4 });
      for (let round = 0; round < 10; round++) {
        const created = await a.createJobs(Array.from({ length: 20 }, () => newJob({ queue: `q${round}` })));
        const now = new Date();
        const claimed = await a.claimJobs({
          queues: [`q${round}`],
          limit: 20,
          serverName: 'w',
          now,
          leaseUntil: new Date(now.getTime() + 30_000),
        });
        assert.equal(claimed.length, 20);
        const finish = (order: string[], to: 'Succeeded' | 'Enqueued') =>
          order.map((id) => ({ id, expect: { state: 'Processing' as const }, to: { name: to, at: new Date() } }));
        const ids = created.map((result) => result.id);
        const server = { name: 'w', queues: [`q${round}`], concurrency: 20, startedAt: now, heartbeatAt: now };
        const [done, requeued] = await Promise.all([
          a.transition(finish(ids, 'Succeeded')),
          b.transition(finish([...ids].reverse(), 'Enqueued')),
          a.heartbeat(server, new Date(now.getTime() + 60_000)),
          b.heartbeat(server, new Date(now.getTime() + 60_000)),
        ]);
        // Each job moved exactly once: by one batch or the other.
        ids.forEach((id, i) => assert.equal(Boolean(done![i]) !== Boolean(requeued![19 - i]), true, `job ${id} moved once`));
      }
    }));

  it('keeps ids as strings beyond 2^53', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const store = await open({ schema });
      await withClient((client) => client.query(`ALTER TABLE "${schema}".jobs ALTER COLUMN id RESTART WITH 9007199254740993`));
      const [created] = await store.createJobs([newJob()]);
      assert.equal(created!.id, '9007199254740993');
      assert.equal((await store.getJob('9007199254740993'))?.id, '9007199254740993');
      assert.equal(await store.getJob('9223372036854775808'), undefined); // beyond BIGINT: names no job
    }));

  it('wakes another store instance (its own pool and listener) when a job is enqueued, and only with wake events', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const writer = await open({ schema });
      const reader = await open({ schema });
      const events: StoreEvent[] = [];
      reader.subscribe((event) => events.push(event));
      const [created] = await writer.createJobs([newJob({ queue: 'mail' })]);
      await waitFor(() => events.some((event) => event.type === 'wake' && event.queue === 'mail'), 'a wake for queue mail', 1_000);
      await writer.transition([{ id: created!.id, expect: { state: 'Enqueued' }, to: { name: 'Deleted', at: new Date() } }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        events.filter((event) => event.type === 'state'),
        [],
        'state events are only for changes made in this process',
      );
    }));

  it('sends no wake for a write that is rolled back', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const writer = await open({ schema });
      const reader = await open({ schema });
      const events: StoreEvent[] = [];
      reader.subscribe((event) => events.push(event));
      await assert.rejects(writer.createJobs([newJob({ queue: 'mail' }), newJob({ parentId: '424242' })]), { name: 'JobNotFoundError' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(events, []);
      assert.equal((await reader.listJobs({})).length, 0);
    }));

  it('does not wake stores on another schema', () =>
    withStores(async (open) => {
      const writer = await open({ schema: freshSchema() });
      const reader = await open({ schema: freshSchema() });
      const events: StoreEvent[] = [];
      reader.subscribe((event) => events.push(event));
      await writer.createJobs([newJob()]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(events, []);
    }));

  it('reconnects its listener after its connection is terminated, and wakes again', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const writer = await open({ schema });
      const reader = await open({ schema });
      const events: StoreEvent[] = [];
      reader.subscribe((event) => events.push(event));
      const channel = `${schema}_wake`;
      // The listener's backend is the one LISTENing on the channel; pg_stat_activity shows its last query.
      const terminated = await withClient(async (client) => {
        const { rows } = await client.query(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
          [`LISTEN "${channel}"`],
        );
        return rows;
      });
      assert.equal(terminated.length, 2, 'both stores have a listener connection');
      // After reconnecting, it wakes its subscribers once (notifications may have been lost).
      await waitFor(() => events.some((event) => event.type === 'wake' && event.queue === undefined), 'a wake after reconnecting', 5_000);
      events.length = 0;
      await writer.createJobs([newJob({ queue: 'after-reconnect' })]);
      await waitFor(
        () => events.some((event) => event.type === 'wake' && event.queue === 'after-reconnect'),
        'a wake from the other store',
        2_000,
      );
    }));

  it('names its sessions in pg_stat_activity: pilotlight, and pilotlight listener (a name in the connection string wins)', () =>
    withStores(async (open) => {
      // Only the sessions of a store's own schema: other runs on the shared server have sessions named the same.
      const sessionsOn = (schema: string) =>
        withClient(async (client) => {
          const { rows } = await client.query<{ application_name: string; query: string }>(
            `SELECT application_name, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (query = $1 OR query LIKE $2)`,
            [`LISTEN "${schema}_wake"`, `%"${schema}".jobs%`],
          );
          return rows;
        });
      const store = await open({ schema: freshSchema() });
      await store.listJobs({}); // a pool connection, at least
      const sessions = await sessionsOn(store.schema);
      assert.ok(
        sessions.some((row) => row.application_name === 'pilotlight listener' && row.query.startsWith('LISTEN')),
        JSON.stringify(sessions),
      );
      assert.ok(
        sessions.some((row) => row.application_name === 'pilotlight' && row.query.includes('ORDER BY id DESC')),
        JSON.stringify(sessions),
      );

      const url = new URL(TEST_DATABASE_URL);
      const name = `billing-worker ${randomBytes(4).toString('hex')}`;
      url.searchParams.set('application_name', name);
      const named = await open({ schema: freshSchema(), connectionString: url.toString() });
      await named.listJobs({});
      const custom = await sessionsOn(named.schema);
      assert.ok(
        custom.some((row) => row.application_name === name && row.query.startsWith('LISTEN')),
        `the listener carries the connection string's name: ${JSON.stringify(custom)}`,
      );
      assert.ok(
        custom.some((row) => row.application_name === name && row.query.includes('ORDER BY id DESC')),
        `a pool connection carries it: ${JSON.stringify(custom)}`,
      );
    }));

  it("drops leftover test schemas older than 30 minutes, and no other: not a recent one (another run's), nor one it did not name", async () => {
    const old = freshSchema(Date.now() - STALE_AFTER_MS - 60_000);
    const recent = freshSchema(Date.now() - 60_000);
    const unrecognized = `pilotlight_test_stale_${randomBytes(4).toString('hex')}`;
    schemas.add(unrecognized);
    await withClient(async (client) => {
      for (const schema of [old, recent, unrecognized]) await client.query(`CREATE SCHEMA "${schema}"`);
    });
    assert.ok((await dropStaleTestSchemas(TEST_DATABASE_URL)).includes(old));
    const left = await withClient(
      async (client) =>
        (await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)`, [[old, recent, unrecognized]]))
          .rows,
    );
    assert.deepEqual(left.map((row) => row.nspname).sort(), [recent, unrecognized].sort());
  });

  it('works on a pool the application owns, and leaves it open', async () => {
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
    try {
      const schema = freshSchema();
      const store = await createPostgresStore({ pool, schema });
      const other = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 1 });
      const events: StoreEvent[] = [];
      store.subscribe((event) => events.push(event));
      await other.createJobs([newJob({ queue: 'app' })]);
      await waitFor(() => events.some((event) => event.type === 'wake' && event.queue === 'app'), 'a wake through the app pool listener');
      await store.close();
      await other.close();
      assert.equal((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows[0].n, 1);
    } finally {
      await pool.end();
    }
  });

  it('rejects invalid options with a ValidationError naming the option and the value, before connecting', async () => {
    const cases: [PostgresStoreOptions, RegExp][] = [
      [{ connectionString: TEST_DATABASE_URL, schema: 'bad-name' }, /schema.*"bad-name"/],
      [{ connectionString: TEST_DATABASE_URL, schema: 'x"; DROP TABLE y; --' }, /schema.*DROP TABLE/],
      [{ connectionString: TEST_DATABASE_URL, schema: '' }, /schema.*""/],
      [{ connectionString: TEST_DATABASE_URL, schema: 'a'.repeat(49) }, /schema/],
      [{ connectionString: TEST_DATABASE_URL, poolSize: 0 }, /poolSize.*0/],
      [{ connectionString: TEST_DATABASE_URL, poolSize: 2.5 }, /poolSize.*2\.5/],
      [{ connectionString: TEST_DATABASE_URL, statementTimeout: -1 }, /statementTimeout.*-1/],
      [{ connectionString: TEST_DATABASE_URL, statementTimeout: '5s' as unknown as number }, /statementTimeout.*"5s"/],
      [{ connectionString: '' }, /connectionString.*""/],
      [{ connectionString: 42 as unknown as string }, /connectionString.*42/],
      [{ pool: {} as pg.Pool }, /pool.*an object/],
      [{ pool: new pg.Pool(), poolSize: 2 }, /poolSize.*2/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(createPostgresStore(options), (error: unknown) => {
        assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
        assert.match(error.message, message);
        return true;
      });
    }
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await assert.rejects(
        createPostgresStore({}),
        (error: unknown) => error instanceof ValidationError && /connectionString.*DATABASE_URL/.test(error.message),
      );
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });

  it('uses DATABASE_URL by default', async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = TEST_DATABASE_URL;
    try {
      const store = await createPostgresStore({ schema: freshSchema() });
      await store.close();
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  it('migration 2 fails the legacy rows it cannot read (naming the column), gives lease-less Processing jobs an expired lease, then its constraints refuse such rows', async () => {
    const schema = freshSchema();
    // A schema at version 1, as the previous release left it, with rows no version can run.
    await withClient(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(
        `CREATE TABLE "${schema}".migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      await client.query(POSTGRES_MIGRATIONS[0]!(`"${schema}"`));
      await client.query(`INSERT INTO "${schema}".migrations (version) VALUES (1)`);
      const insert = (state: string, metadata: string | null, retry: string | null, lease: string | null) =>
        client.query(
          `INSERT INTO "${schema}".jobs (type, method, args, queue, priority, state, run_at, created_at, state_changed_at, retry, metadata, lease_until, history)
           VALUES ('Legacy', '', '[]', 'default', 0, $1, now(), now(), '2030-01-01T00:00:00Z', $2, $3, $4, '{"name":"Enqueued","at":0}')`,
          [state, retry, metadata, lease],
        );
      await insert('Bogus', null, null, null);
      await insert('Enqueued', '[1,2]', '"fast"', null);
      await insert('Processing', null, null, null);
      await insert('Enqueued', '{"tenant":"acme"}', '{"attempts":2}', null);
    });
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema });
    try {
      const [bogus, shapes, leaseless, sound] = await store.listJobs({ limit: 10 }).then((jobs) => jobs.reverse());
      assert.equal(bogus!.state, 'Failed');
      assert.equal(
        bogus!.stateReason,
        "Unreadable row: column state holds 'Bogus', not one of the 7 states (Enqueued, Scheduled, Awaiting, Processing, Succeeded, Failed, Deleted) (found by schema migration 2)",
      );
      assert.equal(shapes!.state, 'Failed');
      assert.equal(
        shapes!.stateReason,
        'Unreadable row: column metadata is not a JSON object ([1, 2], cleared); column retry is not a JSON object ("fast", cleared) (found by schema migration 2)',
      );
      const history = await store.getHistory(shapes!.id);
      assert.deepEqual(
        history.map((state) => [state.name, state.reason, state.error?.type]),
        [
          ['Enqueued', undefined, undefined],
          ['Failed', shapes!.stateReason, 'UnreadableRow'],
        ],
      );
      assert.equal(leaseless!.state, 'Processing');
      assert.deepEqual(leaseless!.leaseUntil, new Date('2030-01-01T00:00:00Z'));
      assert.deepEqual(
        (await store.listExpiredLeases(new Date('2030-01-01T00:00:01Z'), 10)).map((job) => job.id),
        [leaseless!.id],
      );
      assert.equal(sound!.state, 'Enqueued');
      assert.deepEqual(sound!.metadata, { tenant: 'acme' });

      // The constraints refuse new rows of each kind.
      await withClient(async (client) => {
        const refused = (sql: string, constraint: string) =>
          assert.rejects(client.query(sql), new RegExp(`violates check constraint "${constraint}"`));
        await refused(`UPDATE "${schema}".jobs SET state = 'Bogus' WHERE id = ${sound!.id}`, 'jobs_state_known');
        await refused(`UPDATE "${schema}".jobs SET lease_until = NULL WHERE id = ${leaseless!.id}`, 'jobs_processing_leased');
        await refused(`UPDATE "${schema}".jobs SET metadata = '[1]' WHERE id = ${sound!.id}`, 'jobs_metadata_object');
        await refused(`UPDATE "${schema}".jobs SET retry = '3' WHERE id = ${sound!.id}`, 'jobs_retry_object');
      });
    } finally {
      await store.close();
    }
  });

  it('migration 3 counts the jobs already there per queue and state, and the outcomes of their last 48 hours', async () => {
    const schema = freshSchema();
    // A schema at version 2, as the previous release left it, with jobs in every state.
    const minute = legacyMinute();
    await withClient(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(
        `CREATE TABLE "${schema}".migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      await client.query(POSTGRES_MIGRATIONS[0]!(`"${schema}"`));
      await client.query(POSTGRES_MIGRATIONS[1]!(`"${schema}"`));
      await client.query(`INSERT INTO "${schema}".migrations (version) VALUES (1), (2)`);
      for (const { queue, priority, state, runAt, changedAt } of legacyRows(minute)) {
        await client.query(
          `INSERT INTO "${schema}".jobs (type, method, args, queue, priority, state, run_at, created_at, state_changed_at, lease_until, history)
           VALUES ('Legacy', '', '["needle"]', $1, $2, $3, $4, now(), $5, CASE WHEN $3 = 'Processing' THEN now() END, '{"name":"Enqueued","at":0}')`,
          [queue, priority, state, new Date(runAt), new Date(changedAt)],
        );
      }
    });
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema });
    try {
      await assertLegacyCounted(store, minute);
      assert.equal((await store.searchJobs({ text: 'needle', state: 'Succeeded' })).jobs.length, 3);
      await store.claimJobs({ queues: ['mail'], limit: 2, serverName: 'w', now: new Date(), leaseUntil: new Date(Date.now() + 30_000) });
      assert.deepEqual((await store.countJobs({ queue: 'mail' })).Processing, 3);
      assert.deepEqual((await store.queueStats())[1]!.oldestEnqueuedAt, new Date(3_000));
    } finally {
      await store.close();
    }
  });

  it('keeps exact counts while two stores claim, finish and fold at once', () =>
    withStores(async (open) => {
      const schema = freshSchema();
      const stores = [await open({ schema, poolSize: 4 }), await open({ schema, poolSize: 4 })];
      await stores[0]!.createJobs(
        Array.from({ length: 600 }, (_, i) => newJob({ queue: i % 2 === 0 ? 'even' : 'odd', type: i % 3 === 0 ? 'Digest' : 'Mailer' })),
      );
      const outcomes = ['Succeeded', 'Failed', 'Deleted'] as const;
      let finished = 0; // jobs that reached Succeeded or Failed
      const worker = async (store: PostgresStore, name: string) => {
        const claim = () => ({
          queues: ['even', 'odd'],
          limit: 7,
          serverName: name,
          now: new Date(),
          leaseUntil: new Date(Date.now() + 60_000),
        });
        let running = await store.claimJobs(claim());
        while (running.length > 0) {
          const changes = running.map((job, i) => ({
            id: job.id,
            job,
            expect: { state: 'Processing' as const, attempt: job.attempt, serverName: name },
            to: { name: outcomes[(Number(job.id) + i) % 3]!, at: new Date() },
            expiresAt: i % 2 === 0 ? new Date(0) : null,
          }));
          const result = await store.transitionAndClaim(changes, claim());
          result.transitioned.forEach((job, i) => {
            if (job && changes[i]!.to.name !== 'Deleted') finished++;
          });
          running = result.claimed;
        }
      };
      let working = true;
      const maintenance = async (store: PostgresStore) => {
        while (working) await Promise.all([store.deleteExpiredJobs(new Date(), 50), store.countJobs(), store.queueStats()]);
      };
      const folding = [maintenance(stores[0]!), maintenance(stores[1]!)];
      await Promise.all([worker(stores[0]!, 'a'), worker(stores[0]!, 'b'), worker(stores[1]!, 'c'), worker(stores[1]!, 'd')]);
      working = false;
      await Promise.all(folding);

      const real = await withClient(
        async (client) =>
          (await client.query<{ state: StateName; n: number }>(`SELECT state, count(*)::int AS n FROM "${schema}".jobs GROUP BY state`))
            .rows,
      );
      const expected = Object.fromEntries(ALL_STATES.map((state) => [state, real.find((row) => row.state === state)?.n ?? 0]));
      assert.deepEqual(await stores[0]!.countJobs(), expected);
      assert.deepEqual(await stores[1]!.countJobs(), expected);
      await stores[1]!.deleteExpiredJobs(new Date(), 1_000);
      const folded = await withClient(async (client) => ({
        pending: (await client.query(`SELECT count(*)::int AS n FROM "${schema}".job_count_deltas`)).rows[0].n,
        counts: (
          await client.query(`SELECT queue, type, state, n::int FROM "${schema}".job_counts WHERE n <> 0 ORDER BY queue, type, state`)
        ).rows,
        real: (
          await client.query(
            `SELECT queue, type, state, count(*)::int AS n FROM "${schema}".jobs GROUP BY queue, type, state ORDER BY queue, type, state`,
          )
        ).rows,
        outcomes: (await client.query(`SELECT sum(succeeded)::int AS s, sum(failed)::int AS f FROM "${schema}".job_outcomes`)).rows[0],
      }));
      assert.equal(folded.pending, 0, 'every delta folded');
      assert.deepEqual(folded.counts, folded.real);
      assert.equal(folded.outcomes.s + folded.outcomes.f, finished);
    }));

  it('refuses a schema written by a newer Pilotlight, and leaks no connection', async () => {
    const schema = freshSchema();
    await (await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })).close();
    await withClient((client) => client.query(`INSERT INTO "${schema}".migrations (version) VALUES (99)`));
    const before = new Set(process.getActiveResourcesInfo());
    await assert.rejects(createPostgresStore({ connectionString: TEST_DATABASE_URL, schema }), /version 99, newer than/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      activeHandles().filter((handle) => !before.has(handle)),
      [],
    );
  });

  it('close() ends the listener, the pool and every timer: no handle is left', async () => {
    const baseline = activeHandles();
    const schema = freshSchema();
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema });
    const other = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema });
    await store.createJobs([newJob()]);
    // Kill the listener so a reconnect timer is pending when close() runs.
    await withClient((client) =>
      client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`, [
        `LISTEN "${schema}_wake"`,
      ]),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all([store.close(), other.close()]);
    await store.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(activeHandles(), baseline);
    await assert.rejects(store.getJob('1'), /closed/);
  });
});

/** Sockets and timers of this process (the test runner's own are in the baseline). */
function activeHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((resource) => resource === 'TCPWrap' || resource === 'Timeout' || resource === 'PipeWrap')
    .sort();
}
