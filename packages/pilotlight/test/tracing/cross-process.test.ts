/**
 * One trace across two processes (an instrumented HTTP API enqueuing, a worker running the job),
 * exported over OTLP/HTTP, on a SQLite file both processes share. The test itself, shared with the
 * other stores' packages, is in fixtures/cross-process-trace.ts.
 */
import { sharedDb } from '../processes/fixtures/shared-db.ts';
import { testCrossProcessTracing } from './fixtures/cross-process-trace.ts';
import { sqliteStoreOpener } from './fixtures/sqlite-store.ts';

testCrossProcessTracing('SQLite', async () => {
  const db = sharedDb(); // creates the SQLite file (and its schema) before any child opens it
  return { store: db.store, opener: sqliteStoreOpener(db.dbPath) };
});
