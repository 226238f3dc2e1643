/**
 * The poison-job test of the core package (packages/pilotlight/test/support/poison-jobs.ts), on
 * PostgreSQL: each hostile value a handler throws ends in a recorded outcome that counts. Runs in a
 * schema of its own, dropped at the end.
 */
import { after } from 'node:test';
import pg from 'pg';
import { testPoisonJobs } from '../../pilotlight/test/support/poison-jobs.ts';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { testSchema } from './support/schemas.ts';

const connectionString = process.env.PILOTLIGHT_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = testSchema();
let store: PostgresStore | undefined;

after(async () => {
  try {
    await store?.close();
  } finally {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  }
});

testPoisonJobs('PostgreSQL', async () => (store = await createPostgresStore({ connectionString, schema, poolSize: 4 })));
