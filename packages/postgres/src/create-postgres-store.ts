import pg from 'pg';
import { ValidationError } from 'pilotlight/store-kit';
import { PostgresStore } from './postgres-store.ts';
import { describeValue } from './describe-value.ts';

export interface PostgresStoreOptions {
  /** A `postgres://` URL. @default process.env.DATABASE_URL */
  readonly connectionString?: string;
  /**
   * Your own `pg.Pool` (the store then never ends it: `close()` leaves it to you). The wake-up
   * listener holds one of its connections.
   */
  readonly pool?: pg.Pool;
  /** The PostgreSQL schema holding every table, created if missing. @default 'pilotlight' */
  readonly schema?: string;
  /** Connections of the pool the store creates. @default 10 */
  readonly poolSize?: number;
  /** `statement_timeout` of the connections the store creates, in ms; 0 disables it. @default 30000 */
  readonly statementTimeout?: number;
}

const DEFAULT_SCHEMA = 'pilotlight';
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_STATEMENT_TIMEOUT = 30_000;
const APPLICATION_NAME = 'pilotlight';
/** Unquoted so that it is also a valid channel name once suffixed; 48 leaves room for '_wake' in 63 bytes. */
const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

function invalid(option: string, rule: string, value: unknown): ValidationError {
  return new ValidationError(`createPostgresStore() options.${option} must be ${rule}; received ${describeValue(value)}`);
}

function isPool(value: unknown): value is pg.Pool {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as pg.Pool).connect === 'function' &&
    typeof (value as pg.Pool).query === 'function'
  );
}

/**
 * Open a PostgreSQL store: validate the options, create or upgrade the schema, start listening for
 * wake-ups. Without `pool` or `connectionString`, connects to `DATABASE_URL`.
 */
export async function createPostgresStore(options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  if (options === null || typeof options !== 'object')
    throw new ValidationError(`createPostgresStore() options must be an object; received ${describeValue(options)}`);
  const { pool: userPool, poolSize, statementTimeout } = options;
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw invalid('schema', 'a letter or "_" followed by at most 47 letters, digits or "_"', schema);
  }
  if (userPool !== undefined && !isPool(userPool)) throw invalid('pool', 'a pg.Pool', userPool);
  if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000)) {
    throw invalid('poolSize', 'an integer between 1 and 1000', poolSize);
  }
  if (statementTimeout !== undefined && (!Number.isInteger(statementTimeout) || statementTimeout < 0)) {
    throw invalid('statementTimeout', 'an integer >= 0 (ms)', statementTimeout);
  }
  if (userPool !== undefined) {
    // These configure connections the store creates; it creates none when given a pool.
    for (const option of ['connectionString', 'poolSize', 'statementTimeout'] as const) {
      if (options[option] !== undefined)
        throw invalid(option, 'left out when options.pool is given (configure your pool instead)', options[option]);
    }
  }
  const connectionString = options.connectionString ?? (userPool ? undefined : process.env.DATABASE_URL);
  if (userPool === undefined) {
    if (connectionString === undefined) {
      throw invalid('connectionString', 'given (or DATABASE_URL set) when options.pool is not', undefined);
    }
    if (typeof connectionString !== 'string' || connectionString.trim() === '')
      throw invalid('connectionString', 'a non-empty string', connectionString);
  }

  let pool: pg.Pool;
  let connectListener: () => Promise<{ client: pg.ClientBase; release(destroy: boolean): void }>;
  if (userPool) {
    pool = userPool;
    connectListener = async () => {
      const client = await userPool.connect();
      return { client, release: (destroy) => client.release(destroy) };
    };
  } else {
    // TCP keep-alive: a connection whose peer vanished without a reset (a dropped link, a failed-over
    // host) is noticed by the OS and fails, instead of waiting forever; the listener above all, which
    // only ever waits.
    // application_name: Pilotlight's sessions are recognizable in pg_stat_activity (one given in the
    // connection string wins).
    const config: pg.ClientConfig = {
      connectionString,
      statement_timeout: statementTimeout ?? DEFAULT_STATEMENT_TIMEOUT,
      keepAlive: true,
      application_name: APPLICATION_NAME,
    };
    pool = new pg.Pool({ ...config, max: poolSize ?? DEFAULT_POOL_SIZE });
    // An idle connection that dies (server restart) is dropped by the pool; without a listener the
    // 'error' event would crash the process.
    pool.on('error', (error) => process.emitWarning(`A Pilotlight PostgreSQL connection failed: ${error.message}`, 'PilotlightWarning'));
    // A connection lent out of the pool (inside a transaction) has no listener of the pool's: if it
    // dies between two queries (the server restarting says so as soon as it shuts down), its
    // 'error' event would be unhandled and crash the process. Its query in flight, or the next one,
    // fails instead, and the store call with it.
    pool.on('connect', (client) => client.on('error', () => {}));
    // The listener has its own connection, outside the pool: it lives as long as the store.
    connectListener = async () => {
      const client = new pg.Client({ connectionString, keepAlive: true, application_name: `${APPLICATION_NAME} listener` });
      try {
        await client.connect();
      } catch (error) {
        void client.end().catch(() => {});
        throw error;
      }
      return { client, release: () => client.end().catch(() => {}) };
    };
  }
  const store = new PostgresStore({ pool, ownsPool: !userPool, schema, connectListener });
  try {
    await store.migrate();
    await store.start();
  } catch (error) {
    // No store is returned, so nobody could close it: do not leak its connections.
    await store.close();
    throw error;
  }
  return store;
}
