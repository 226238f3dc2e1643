/**
 * Flow control on a shared SQLite file across three worker processes (and three producer processes
 * for debounce): concurrency keys, a rate limit, pause and resume, batch continuations, debounce.
 * The scenarios are the PostgreSQL store's too (`fixtures/flow-scenarios.ts`).
 */
import { join } from 'node:path';
import { startChild } from './fixtures/children.ts';
import { flowControlProcessTests } from './fixtures/flow-scenarios.ts';
import { sharedDb } from './fixtures/shared-db.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

flowControlProcessTests('SQLite', async () => {
  const db = sharedDb();
  const flowLogFile = join(db.dir, 'flow.log');
  return {
    client: db.client,
    flowLogFile,
    startWorker: (name, options) =>
      startChild(name, './worker-process.ts', {
        dbPath: db.dbPath,
        logFile: db.logFile,
        flowLogFile,
        serverName: name,
        ...options,
      } satisfies WorkerProcessConfig),
    storeModule: new URL('./fixtures/sqlite-store.ts', import.meta.url).href,
    storeConfig: { dbPath: db.dbPath },
  };
});
