import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createClient, createWorker, silentLogger, type Client, type Store, type Worker, type WorkerOptions } from '../../src/index.ts';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite.ts';
import { waitFor } from './wait.ts';

export { waitFor };

/** A fresh directory, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilotlight-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh SQLite store in its own file, closed after the test file. */
export function tempStore(): SqliteStore {
  const store = createSqliteStore({ path: join(tempDir(), 'jobs.db') });
  after(() => store.close());
  return store;
}

/** Waits until job `id` is in `state`. */
export function waitForState(client: Client, id: string, state: string, timeout?: number) {
  return waitFor(
    async () => {
      const job = await client.getJob(id);
      return job?.state === state ? job : undefined;
    },
    `job ${id} to be ${state}`,
    timeout,
  );
}

/** Fast timings for tests: short poll, maintenance and heartbeat; silent logs; stopped after the test file. */
export function testWorker(options: WorkerOptions): Worker {
  const worker = createWorker({
    pollInterval: 20,
    maintenanceInterval: 20,
    heartbeatInterval: 50,
    leaseDuration: 2_000,
    shutdownTimeout: 1_000,
    logger: silentLogger,
    ...options,
  });
  after(() => worker.stop());
  return worker;
}

export function testClient(store: SqliteStore): Client {
  return createClient({ store, logger: silentLogger });
}

/** `store`, with some methods replaced; every other call goes to the real store. */
export function wrapStore(store: Store, overrides: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof Store];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
