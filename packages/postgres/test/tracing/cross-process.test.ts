/**
 * The cross-process tracing test of the core package (packages/pilotlight/test/tracing/), on
 * PostgreSQL: the API process stores the PRODUCER span's traceparent with the job, the worker
 * process reads it back from the database and continues the trace. Runs in a schema of its own,
 * dropped at the end.
 */
import { after } from 'node:test';
import pg from 'pg';
import { testCrossProcessTracing } from '../../../pilotlight/test/tracing/fixtures/cross-process-trace.ts';
import { createPostgresStore, type PostgresStore } from '../../src/index.ts';
import { postgresStoreOpener } from './postgres-store-opener.ts';
import { testSchema } from '../support/schemas.ts';

const connectionString = process.env.PILOTLIGHT_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

testCrossProcessTracing('PostgreSQL', async () => {
  const schema = testSchema();
  // The parent's own pool: its store (which leaves a pool it was given open) reads the job back,
  // then the pool drops the schema.
  const pool = new pg.Pool({ connectionString, max: 3 });
  let store: PostgresStore | undefined;
  after(async () => {
    try {
      await store?.close();
    } finally {
      try {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await pool.end();
      }
    }
  });
  store = await createPostgresStore({ pool, schema }); // creates the schema before either child opens it
  return { store, opener: postgresStoreOpener({ connectionString, schema }) };
});
