/**
 * Flow control on PostgreSQL (a schema of its own) across three worker processes (and three producer
 * processes for debounce): concurrency keys, a rate limit, pause and resume, batch continuations,
 * debounce. The scenarios are the SQLite store's too (the core's `fixtures/flow-scenarios.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { startChild } from '../../../pilotlight/test/processes/fixtures/children.ts';
import { flowControlProcessTests } from '../../../pilotlight/test/processes/fixtures/flow-scenarios.ts';
import { testDatabase } from './fixtures/database.ts';
import { WORKER_PROCESS } from './fixtures/scripts.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

flowControlProcessTests('PostgreSQL', async () => {
  const db = await testDatabase();
  // The handlers' log: a file, as on SQLite, so both stores' runs are read by the same code.
  const dir = mkdtempSync(join(tmpdir(), 'pilotlight-pg-flow-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const flowLogFile = join(dir, 'flow.log');
  return {
    client: db.client,
    flowLogFile,
    startWorker: (name, options) =>
      startChild(name, WORKER_PROCESS, {
        connectionString: db.connectionString,
        schema: db.schema,
        poolSize: 4,
        executionsConnectionString: db.executionsConnectionString,
        executionsTable: db.executionsTable,
        serverName: name,
        flowLogFile,
        ...options,
      } satisfies WorkerProcessConfig),
    storeModule: new URL('./fixtures/postgres-store.ts', import.meta.url).href,
    storeConfig: { connectionString: db.connectionString, schema: db.schema },
  };
});
