/** `pilotlight/sqlite`: the embedded store, one SQLite file through Node's built-in `node:sqlite`. */
export { createSqliteStore, SqliteStore } from './storage/sqlite/sqlite-store.ts';
export type { SqliteStoreOptions } from './storage/sqlite/sqlite-store.ts';
