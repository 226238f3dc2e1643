import { ValidationError } from 'pilotlight';
import { inPooledTransaction } from 'pilotlight/store-kit';
import type { TraceStore } from '../../../spans/trace-store.ts';
import { migrate } from './postgres-migrations.ts';
import { PostgresTraceStore } from './postgres-trace-store.ts';
import type { PoolLike } from './queryable.ts';

export type { PoolClientLike, PoolLike, Queryable } from './queryable.ts';

export interface PostgresTraceStoreOptions {
  /** A `pg.Pool` (or anything of its shape): the store queries through it and never ends it. */
  readonly pool: PoolLike;
  /**
   * The schema of the trace tables (`trace_spans`, `trace_resources`…), created if missing: the job
   * store's by default, whose tables they sit beside.
   * @default 'pilotlight'
   */
  readonly schema?: string;
}

/** As the job store's: a letter or "_", then at most 47 letters, digits or "_". */
const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * Opens the dashboard's spans in PostgreSQL: creates the schema and the trace tables if missing, or
 * brings them up to date. Rejects with `SCHEMA_TOO_NEW` when a newer dashboard wrote them.
 */
export async function createPostgresTraceStore(options: PostgresTraceStoreOptions): Promise<TraceStore> {
  const pool = (options as PostgresTraceStoreOptions | undefined)?.pool;
  if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new ValidationError('createPostgresTraceStore() options.pool must be a pg.Pool (new pg.Pool({ connectionString }))');
  }
  const schema = options.schema ?? 'pilotlight';
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new ValidationError(
      `createPostgresTraceStore() options.schema must be a letter or "_" followed by at most 47 letters, digits or "_"; received ${JSON.stringify(schema)}`,
    );
  }
  const s = `"${schema}"`;
  await inPooledTransaction(pool, (client) => migrate(client, schema, s));
  return new PostgresTraceStore(pool, schema, s);
}
