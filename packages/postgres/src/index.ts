export { PostgresStore } from './postgres-store.ts';
export { createPostgresStore } from './create-postgres-store.ts';
export type { PostgresStoreOptions } from './create-postgres-store.ts';
