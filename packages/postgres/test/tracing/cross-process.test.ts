/**
 * The cross-process tracing test of the core package (packages/pilotlight/test/tracing/), on
 * PostgreSQL: the API process stores the PRODUCER span's traceparent with the job, the worker
 * process reads it back from the database and continues the trace. Runs in a schema of its own,
 * dropped at the end.
 */
import pg from 'pg';
import { testCrossProcessTracing } from '../../../pilotlight/test/tracing/fixtures/cross-process-trace.ts';
import { createPostgresStore, type PostgresStore } from '../../src/index.ts';
import { postgresStoreOpener } from './postgres-store-opener.ts';
import { ownSchema, TEST_DATABASE_URL } from '../support/schemas.ts';

testCrossProcessTracing('PostgreSQL', async () => {
  // The parent's own pool: its store (which leaves a pool it was given open) reads the job back;
  // both are closed before the schema is dropped.
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
  let store: PostgresStore | undefined;
  const schema = ownSchema(async () => {
    try {
      await store?.close();
    } finally {
      await pool.end();
    }
  });
  store = await createPostgresStore({ pool, schema }); // creates the schema before either child opens it
  return { store, opener: postgresStoreOpener({ connectionString: TEST_DATABASE_URL, schema }) };
});
