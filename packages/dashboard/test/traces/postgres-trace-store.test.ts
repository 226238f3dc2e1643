/**
 * The trace store contract on the PostgreSQL test server, each test in a schema of its own
 * (`testSchema()`, all dropped after the file, and swept as stale if a killed run left them), and
 * what is PostgreSQL's own.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { ErrorCodes } from 'pilotlight';
import { createPostgresStore } from '@pilotlight/postgres';
import { createPostgresTraceStore } from '../../src/traces/store/postgres/create-postgres-trace-store.ts';
import type { PoolClientLike, PoolLike } from '../../src/traces/store/postgres/queryable.ts';
import { dropSchemas, TEST_DATABASE_URL, testSchema } from '../../../postgres/test/support/schemas.ts';
import { decodeTraces } from '../../src/traces/otlp/decode-traces.ts';
import { describeTraceStoreContract } from './store-contract.ts';
import { at, makeSpan } from './support/span-builder.ts';

const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
const schemas: string[] = [];
const freshSchema = () => {
  const schema = testSchema();
  schemas.push(schema);
  return schema;
};

after(async () => {
  try {
    await pool.end();
  } finally {
    await dropSchemas(schemas);
  }
});

describeTraceStoreContract('PostgreSQL', async () => ({
  store: await createPostgresTraceStore({ pool, schema: freshSchema() }),
  cleanup: async () => {},
}));

describe('PostgreSQL trace store', () => {
  it('sits beside the job store in its schema, keeps its spans across stores, and leaves the pool open', async () => {
    const schema = freshSchema();
    const jobs = await createPostgresStore({ pool, schema });
    const first = await createPostgresTraceStore({ pool, schema });
    const spans = [makeSpan({ startUs: at(0) }), makeSpan({ startUs: at(1) })];
    await first.write(spans);
    await first.close();
    const again = await createPostgresTraceStore({ pool, schema });
    assert.deepStrictEqual((await again.findSpans({ where: [], limit: 10, scanLimit: 10 })).spans, [...spans].reverse());
    assert.equal(await again.countSpans(), 2);
    await again.close();
    await jobs.close();
    const { rows } = await pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [
      schema,
    ]);
    const tables = rows.map((row) => row.table_name as string);
    assert.ok(tables.includes('jobs') && tables.includes('migrations'), tables.join());
    assert.deepStrictEqual(
      tables.filter((table) => table.startsWith('trace_')),
      ['trace_migrations', 'trace_resources', 'trace_span_count', 'trace_spans'],
    );
  });

  it('refuses trace tables of a newer version with SCHEMA_TOO_NEW', async () => {
    const schema = freshSchema();
    await (await createPostgresTraceStore({ pool, schema })).close();
    await pool.query(`INSERT INTO "${schema}".trace_migrations (version) VALUES (99)`);
    await assert.rejects(createPostgresTraceStore({ pool, schema }), { code: ErrorCodes.SCHEMA_TOO_NEW, message: /version 99/ });
  });

  it('refuses a bad pool or schema', async () => {
    await assert.rejects(createPostgresTraceStore({ pool: {} as pg.Pool }), { code: ErrorCodes.VALIDATION, message: /options\.pool/ });
    await assert.rejects(createPostgresTraceStore({ pool, schema: 'bad"name' }), {
      code: ErrorCodes.VALIDATION,
      message: /options\.schema/,
    });
  });

  it('counts replaced spans once, in one write and across writes', async () => {
    const store = await createPostgresTraceStore({ pool, schema: freshSchema() });
    const span = makeSpan();
    await store.write([span, makeSpan(), { ...span, name: 'again' }]);
    await store.write([{ ...span, name: 'third' }]);
    assert.equal(await store.countSpans(), 2);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schemas.at(-1)}".trace_spans`);
    assert.equal(rows[0].n, 2);
    await store.close();
  });

  it('stores what an exporter sent with NUL or a lone surrogate in it (the decoder made them U+FFFD; text and jsonb refuse them raw)', async () => {
    const store = await createPostgresTraceStore({ pool, schema: freshSchema() });
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'odd\u0000service' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: 'b7ad6b7169203331',
                  name: 'nul\u0000name',
                  startTimeUnixNano: '1790000000000000000',
                  attributes: [{ key: 'lone', value: { stringValue: 'x\ud800y' } }],
                },
              ],
            },
          ],
        },
      ],
    });
    const spans = decodeTraces(new TextEncoder().encode(body), 'json');
    await store.write(spans);
    const { spans: stored } = await store.getTrace('0af7651916cd43dd8448eb211c80319c', 10);
    assert.deepEqual(
      stored.map((span) => [span.name, span.attributes.lone, span.resource['service.name']]),
      [['nul\ufffdname', 'x\ufffdy', 'odd\ufffdservice']],
    );
    assert.deepEqual(await store.listServices(), ['odd\ufffdservice']);
    await store.close();
  });

  it('a connection that dies in the middle of a write fails that write, not the process; the next write succeeds', async () => {
    let kill = false;
    // The pool's own connections, lent as they are, except that once, after BEGIN, the server ends the connection
    // (pg_terminate_backend from another one) before the write's next statement: its 'error' event comes meanwhile.
    const dying: PoolLike = {
      query: (text, values) => pool.query(text, values),
      async connect() {
        const client = await pool.connect();
        const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
        return Object.assign(Object.create(client) as PoolClientLike, {
          async query(text: string, values?: unknown[]) {
            const result = await client.query(text, values);
            if (text === 'BEGIN' && kill) {
              kill = false;
              await pool.query('SELECT pg_terminate_backend($1)', [pid]);
              // Waits (without listening to the client: a listener of ours would hide a missing one) until the
              // connection is gone on the server, then for its socket to close here.
              while ((await pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rows.length > 0) await sleep(10);
              await sleep(100);
            }
            return result;
          },
        });
      },
    };
    const store = await createPostgresTraceStore({ pool: dying, schema: freshSchema() });
    kill = true; // the next transaction: the write's
    await assert.rejects(store.write([makeSpan({ startUs: at(0) })]), /terminat|Connection/i);
    await store.write([makeSpan({ startUs: at(1) })]);
    assert.equal(await store.countSpans(), 1);
    await store.close();
  });
});
