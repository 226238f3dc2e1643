/**
 * The PostgreSQL opener of the cross-process tracing test (see
 * packages/pilotlight/test/tracing/fixtures/store-opener.ts): the child processes import this
 * module to open their store, so `pg` is only ever loaded from this package.
 */
import type { StoreOpener } from '../../../pilotlight/test/tracing/fixtures/store-opener.ts';
import { createPostgresStore, type PostgresStore } from '../../src/index.ts';

export interface PostgresOpenerOptions {
  readonly connectionString: string;
  readonly schema: string;
}

export function openStore(options: PostgresOpenerOptions): Promise<PostgresStore> {
  return createPostgresStore({ connectionString: options.connectionString, schema: options.schema, poolSize: 4 });
}

/** Tells the child processes to open the store in `schema` of the database at `connectionString`. */
export function postgresStoreOpener(options: PostgresOpenerOptions): StoreOpener {
  return { module: import.meta.url, options };
}
