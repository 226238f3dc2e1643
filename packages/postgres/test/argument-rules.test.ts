import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, silentLogger, ValidationError, type Store } from 'pilotlight';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { ARGUMENT_CASES, badTextCalls, checkArgumentRules } from '../../pilotlight/test/support/argument-rules.ts';
import { ownSchema, TEST_DATABASE_URL } from './support/schemas.ts';

const stores: PostgresStore[] = [];
const schema = ownSchema(async () => {
  for (const store of stores) await store.close();
});

async function open(): Promise<PostgresStore> {
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
  stores.push(store);
  return store;
}

/** `store`, recording the name of every method called on it. */
function recording(store: Store, calls: string[]): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
}

describe('arguments on PostgreSQL: the same rules as on SQLite', () => {
  it(`runs the table of ${ARGUMENT_CASES.length} cases on a real worker and PostgreSQL store`, { timeout: 60_000 }, async () => {
    await checkArgumentRules(await open());
  });

  for (const [what, x] of [
    ['a NUL character', '\u0000'],
    ['a lone surrogate', '\udc00'],
  ] as const) {
    it(`refuses ${what} in metadata, dedup keys, types, methods, ids, cron and time zones before any SQL`, async () => {
      const calls: string[] = [];
      const store = await open();
      const client = createClient({ store: recording(store, calls), logger: silentLogger });
      // The schema is shared with the table's jobs: compare before and after.
      const jobsBefore = (await store.listJobs({ limit: 1000 })).length;
      for (const [name, run, message] of badTextCalls(client, x)) {
        await assert.rejects(run, (error: unknown) => {
          assert.ok(error instanceof ValidationError, `${name}: expected a ValidationError, got ${String(error)}`);
          assert.match(error.message, message, name);
          return true;
        });
      }
      assert.deepEqual(calls, [], 'no store call was made');
      assert.equal((await store.listJobs({ limit: 1000 })).length, jobsBefore);
      assert.deepEqual(await store.listRecurring(), []);
    });
  }
});
