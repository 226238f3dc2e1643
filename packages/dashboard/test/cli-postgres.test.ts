/** The pilotlight commands on the PostgreSQL server, in a schema of their own: the shared scenario (cli-scenario.ts). */
import { createPostgresStore } from '@pilotlight/postgres';
import { ownSchema, TEST_DATABASE_URL } from '../../postgres/test/support/schemas.ts';
import { commandScenario } from './cli-scenario.ts';

const schema = ownSchema();

commandScenario({
  name: 'PostgreSQL',
  open: () => createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 }),
  args: () => ['--postgres', TEST_DATABASE_URL, '--schema', schema],
});
