import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { ErrorCodes, PilotlightError, StoreClosedError } from 'pilotlight/store-kit';
import { newJob } from 'pilotlight/testing';
import { createPostgresStore } from '../src/index.ts';
import { dropSchemas, TEST_DATABASE_URL, testSchema } from './support/schemas.ts';

/** Every schema a test created, dropped when the file is done. */
const schemas = new Set<string>();
function freshSchema(): string {
  const schema = testSchema();
  schemas.add(schema);
  return schema;
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

after(() => dropSchemas(schemas));

describe('PostgresStore errors', () => {
  it('a call after close(): the StoreClosedError every Pilotlight store throws, with code STORE_CLOSED', async () => {
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema: freshSchema(), poolSize: 2 });
    await store.close();
    for (const call of [() => store.getJob('1'), () => store.createJobs([newJob()])]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof StoreClosedError, `expected a StoreClosedError, got ${String(error)}`);
        assert.equal(error.code, ErrorCodes.STORE_CLOSED);
        assert.match(error.message, /The PostgreSQL store \(schema pilotlight_test_\w+\) is closed/);
        return true;
      });
    }
  });

  it('a schema written by a newer Pilotlight: SCHEMA_TOO_NEW, saying what to upgrade', async () => {
    const schema = freshSchema();
    await (await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 })).close();
    await withClient((client) => client.query(`INSERT INTO "${schema}".migrations (version) VALUES (99)`));
    await assert.rejects(createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 }), (error: unknown) => {
      assert.ok(error instanceof PilotlightError, `expected a PilotlightError, got ${String(error)}`);
      assert.equal(error.code, ErrorCodes.SCHEMA_TOO_NEW);
      assert.match(error.message, /has version 99, newer than this Pilotlight knows \(\d+\): upgrade @pilotlight\/postgres/);
      return true;
    });
  });
});
