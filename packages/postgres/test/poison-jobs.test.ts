/**
 * The poison-job test of the core package (packages/pilotlight/test/support/poison-jobs.ts), on
 * PostgreSQL: each hostile value a handler throws ends in a recorded outcome that counts. Runs in a
 * schema of its own, dropped at the end.
 */
import { testPoisonJobs } from '../../pilotlight/test/support/poison-jobs.ts';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { ownSchema, TEST_DATABASE_URL } from './support/schemas.ts';

let store: PostgresStore | undefined;
const schema = ownSchema(async () => store?.close());

testPoisonJobs('PostgreSQL', async () => (store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 })));
