import { describe, it } from 'node:test';
import { createPostgresStore, type PostgresStore } from '../../src/index.ts';
import { storeGaugesScenario } from '../../../pilotlight/test/metrics/gauge-scenario.ts';
import { ownSchema, TEST_DATABASE_URL } from '../support/schemas.ts';

let store: PostgresStore | undefined;
const schema = ownSchema(async () => store?.close());

describe('store-wide gauges (PostgreSQL)', () => {
  it('report jobs per queue and state, lag, workers alive and slots; an emptied queue drops to 0', { timeout: 60_000 }, async () => {
    store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
    await storeGaugesScenario(store);
  });
});
