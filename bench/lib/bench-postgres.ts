import pg from 'pg';

/** The benches' PostgreSQL server: PILOTLIGHT_BENCH_DATABASE_URL, else DATABASE_URL, else the local test database. */
export const connectionString =
  process.env.PILOTLIGHT_BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One statement on a connection of its own (a DROP SCHEMA, a VACUUM, which cannot run in a pool's transaction). */
export async function onPostgres(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
