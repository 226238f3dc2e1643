/**
 * The store every command reads: `--sqlite FILE` or `--postgres URL` (`--schema NAME`), else
 * `DATABASE_URL`. The command line opens existing stores only: a SQLite file that does not exist, or
 * a PostgreSQL schema that does not, is an error naming it, never a new empty store made by a typo.
 * PostgreSQL support (`@pilotlight/postgres` and `pg`, optional peers) is loaded only when asked for.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PilotlightError, ValidationError, type Store } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { stringOption, usageError, type OptionSpecs, type OptionValues } from './args.ts';

export const STORE_OPTIONS: OptionSpecs = {
  sqlite: { type: 'string', value: 'FILE', description: 'the SQLite store: an existing database file' },
  postgres: { type: 'string', value: 'URL', description: 'the PostgreSQL store: postgres://user@host:5432/db (default: $DATABASE_URL)' },
  schema: { type: 'string', value: 'NAME', description: "the PostgreSQL store's schema (default: pilotlight)" },
};

/** The store's schema when `--schema` is not given: `createPostgresStore()`'s default. */
const DEFAULT_SCHEMA = 'pilotlight';
/** Connections of the PostgreSQL pool: a command makes one query at a time, the dashboard a few. */
const POOL_SIZE = 4;

export type StoreChoice =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string; readonly source: string };

/** Which store the options (or `DATABASE_URL`) name; checked before anything is opened. */
export function storeChoice(command: string, values: OptionValues, env: NodeJS.ProcessEnv = process.env): StoreChoice {
  const sqlite = stringOption(command, values, 'sqlite');
  const postgres = stringOption(command, values, 'postgres');
  const schema = stringOption(command, values, 'schema');
  if (sqlite !== undefined && postgres !== undefined) {
    throw usageError(command, 'give one store: --sqlite FILE or --postgres URL, not both');
  }
  if (sqlite !== undefined) {
    if (schema !== undefined) throw usageError(command, `--schema applies to PostgreSQL stores only; received '${schema}' with --sqlite`);
    const path = resolve(sqlite);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw usageError(
        command,
        `--sqlite ${sqlite}: no such file (${path}). Give the path of an existing Pilotlight database; the command line never creates one`,
      );
    }
    return { kind: 'sqlite', path };
  }
  const fromEnv = postgres === undefined;
  const url = postgres ?? (env.DATABASE_URL?.trim() || undefined);
  if (url === undefined) {
    throw usageError(command, 'no store given: pass --sqlite FILE or --postgres URL, or set DATABASE_URL to a postgres:// URL');
  }
  const source = fromEnv ? 'DATABASE_URL' : '--postgres';
  if (!/^postgres(?:ql)?:\/\/./.test(url)) {
    throw usageError(command, `${source} must be a postgres:// (or postgresql://) URL; received '${redactUrl(url)}'`);
  }
  return { kind: 'postgres', url, schema: schema ?? DEFAULT_SCHEMA, source };
}

/** Opens the chosen store (PostgreSQL: after checking that its schema exists). */
export async function openStore(choice: StoreChoice): Promise<Store<unknown>> {
  if (choice.kind === 'sqlite') {
    try {
      return createSqliteStore({ path: choice.path });
    } catch (error) {
      if (error instanceof PilotlightError) throw error; // a newer schema, an old Node.js: said in full already
      throw new ValidationError(`--sqlite ${choice.path}: SQLite cannot open it as a store (${errorMessage(error)})`, { cause: error });
    }
  }
  const { createPostgresStore, pg } = await loadPostgres();
  const where = `the PostgreSQL database at ${redactUrl(choice.url)} (${choice.source})`;
  const client = new pg.Client({ connectionString: choice.url });
  let found: number;
  try {
    await client.connect();
    found = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [choice.schema])).rowCount ?? 0;
  } catch (error) {
    throw new ValidationError(`could not read ${where}: ${errorMessage(error)}`, { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
  if (found === 0) {
    throw new ValidationError(
      `${where} has no schema '${choice.schema}', so no Pilotlight store there. Check --schema (default: ${DEFAULT_SCHEMA}) and the URL; the command line never creates a store`,
    );
  }
  return createPostgresStore({ connectionString: choice.url, schema: choice.schema, poolSize: POOL_SIZE });
}

/** A pool of `POOL_SIZE` connections to the chosen PostgreSQL database (the dashboard's trace store reads and writes through it). */
export async function createPool(choice: StoreChoice & { readonly kind: 'postgres' }) {
  const { pg } = await loadPostgres();
  return new pg.Pool({ connectionString: choice.url, max: POOL_SIZE });
}

async function loadPostgres() {
  try {
    const [{ createPostgresStore }, { default: pg }] = await Promise.all([import('@pilotlight/postgres'), import('pg')]);
    return { createPostgresStore, pg };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new ValidationError(
      `a PostgreSQL store needs the packages @pilotlight/postgres and pg, which are not installed (${errorMessage(error)}). ` +
        'Install them beside @pilotlight/dashboard: npm install @pilotlight/postgres pg',
      { cause: error },
    );
  }
}

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.href;
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/** An error's message; a connection error of every address tried (an AggregateError) has none of its own. */
export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return error.errors.map(errorMessage).join('; ');
  if (error instanceof Error) return error.message || String((error as { code?: unknown }).code ?? error.name);
  return String(error);
}
