import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from '../../packages/pilotlight/src/index.ts';
import { createPostgresStore } from '../../packages/postgres/src/index.ts';
import type { BenchDatabase, BenchTarget } from './target.ts';

/** `PILOTLIGHT_BENCH_DATABASE_URL`, then `DATABASE_URL`, then the local server. */
const connectionString = process.env.PILOTLIGHT_BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface PostgresConfig {
  readonly schema: string;
}

/** Opens the schema a parent process created (see `BenchTarget.moduleUrl`). */
export async function openStore(config: unknown): Promise<Store> {
  return createPostgresStore({ connectionString, schema: (config as PostgresConfig).schema });
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Each database is a schema of its own, dropped with it. */
export const postgresTarget: BenchTarget = {
  name: 'PostgreSQL',
  moduleUrl: import.meta.url,

  async createDatabase(): Promise<BenchDatabase> {
    const schema = `pilotlight_bench_${randomBytes(4).toString('hex')}`;
    const store = await createPostgresStore({ connectionString, schema });
    return {
      store,
      childConfig: { schema } satisfies PostgresConfig,
      async seedFinishedJobs(count: number) {
        // Succeeded jobs as a worker leaves them (history of three states), written in one statement,
        // then vacuumed, analyzed and checkpointed as a long-running system's table would be (without
        // the checkpoint, the measured run would pay for writing out the seeding).
        await withClient(async (client) => {
          await client.query(
            `INSERT INTO "${schema}".jobs (type, method, args, queue, priority, state, state_reason, run_at, created_at,
                                           state_changed_at, attempt, expires_at, history)
             SELECT 'noop', 'perform', '[null]', 'default', 0, 'Succeeded', NULL, t, t, t, 1, t + interval '1 day',
                    '{"name":"Enqueued","at":0},{"name":"Processing","at":0,"serverName":"seed","attempt":1},{"name":"Succeeded","at":0}'
             FROM generate_series(1, $1::integer) AS n, LATERAL (SELECT now() - interval '1 hour' + n * interval '1 ms' AS t) AS at_`,
            [count],
          );
          // Written around the store, so counted here as the store counts its own writes.
          await client.query(
            `INSERT INTO "${schema}".job_count_deltas (queue, type, state, delta) VALUES ('default', 'noop', 'Succeeded', $1)`,
            [count],
          );
          await client.query(`VACUUM ANALYZE "${schema}".jobs`);
          await client.query('CHECKPOINT');
        });
      },
      async destroy() {
        await store.close();
        await withClient((client) => client.query(`DROP SCHEMA "${schema}" CASCADE`));
      },
    };
  },

  async facts() {
    const { server_version, synchronous_commit, shared_buffers } = await withClient(
      async (client) =>
        (
          await client.query<{ server_version: string; synchronous_commit: string; shared_buffers: string }>(
            `SELECT current_setting('server_version') AS server_version, current_setting('synchronous_commit') AS synchronous_commit,
                    current_setting('shared_buffers') AS shared_buffers`,
          )
        ).rows[0]!,
    );
    const url = new URL(connectionString);
    return {
      PostgreSQL: `${server_version} at ${url.host}, synchronous_commit=${synchronous_commit}, shared_buffers=${shared_buffers}`,
      'pg driver': `node-postgres (pg), pool of 10 per process`,
    };
  },
};
