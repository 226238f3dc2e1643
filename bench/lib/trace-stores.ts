import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connectionString, onPostgres } from './bench-postgres.ts';
import { createPostgresTraceStore, createSqliteTraceStore, type TraceStore } from '../../packages/dashboard/src/index.ts';

/**
 * The trace stores of the traces bench: a SQLite file, or a PostgreSQL schema, that a child process
 * (the receiver) and this process both open. PostgreSQL: PILOTLIGHT_BENCH_DATABASE_URL, else
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 */

export type TraceStoreKind = 'sqlite' | 'postgres';

/** JSON-serializable: how a process opens the same trace store. `dir`: a temporary folder for the receiver's files. */
export type TraceStoreConfig =
  | { readonly kind: 'sqlite'; readonly dir: string; readonly path: string }
  | { readonly kind: 'postgres'; readonly dir: string; readonly schema: string };

/** An open trace store and what closes it (the store, and the pool of a PostgreSQL one). */
export interface OpenTraceStore {
  readonly store: TraceStore;
  close(): Promise<void>;
}

export async function openTraceStore(config: TraceStoreConfig): Promise<OpenTraceStore> {
  if (config.kind === 'sqlite') {
    const store = createSqliteTraceStore({ path: config.path });
    return { store, close: () => store.close() };
  }
  const pool = new pg.Pool({ connectionString, max: 10 });
  try {
    const store = await createPostgresTraceStore({ pool, schema: config.schema });
    return {
      store,
      async close() {
        await store.close();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/** A fresh, empty trace store for one measurement (a file in a temporary folder, or a schema with a random suffix); `destroy()` deletes it. */
export async function createTraceDatabase(kind: TraceStoreKind): Promise<{ config: TraceStoreConfig; destroy(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotlight-bench-traces-'));
  const config: TraceStoreConfig =
    kind === 'sqlite'
      ? { kind, dir, path: join(dir, 'traces.db') }
      : { kind, dir, schema: `pilotlight_bench_ingest_${randomBytes(4).toString('hex')}` };
  return {
    config,
    async destroy() {
      if (config.kind === 'postgres') await onPostgres(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `SQLite 3.x (node:sqlite)` and the PostgreSQL server's version and settings, for the report. */
export async function traceStoreFacts(kinds: readonly TraceStoreKind[]): Promise<Record<string, string>> {
  const facts: Record<string, string> = {};
  if (kinds.includes('sqlite')) {
    facts.SQLite = `${(process.versions as Record<string, string | undefined>).sqlite ?? 'unknown'} (node:sqlite), trace store WAL, synchronous=NORMAL`;
  }
  if (kinds.includes('postgres')) {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      const row = (
        await client.query<{ v: string; sc: string; sb: string }>(
          `SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS sc, current_setting('shared_buffers') AS sb`,
        )
      ).rows[0]!;
      facts.PostgreSQL = `${row.v} at ${new URL(connectionString).host}, synchronous_commit=${row.sc}, shared_buffers=${row.sb}, pool of 10`;
    } finally {
      await client.end();
    }
  }
  facts['Temp dir'] = tmpdir();
  return facts;
}
