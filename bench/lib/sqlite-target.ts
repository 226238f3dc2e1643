import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../packages/pilotlight/src/index.ts';
import { createSqliteStore } from '../../packages/pilotlight/src/sqlite.ts';
import { DEFAULTS } from '../../packages/pilotlight/src/config/defaults.ts';
import type { BenchTarget } from './target.ts';

interface SqliteConfig {
  readonly path: string;
}

/** Opens the database a parent process created (see `BenchTarget.moduleUrl`). */
export async function openStore(config: unknown): Promise<Store> {
  return createSqliteStore({ path: (config as SqliteConfig).path });
}

/** Each database is a file in its own temporary directory, deleted with it. */
export const sqliteTarget: BenchTarget = {
  name: 'SQLite',
  moduleUrl: import.meta.url,

  async createDatabase() {
    const dir = await mkdtemp(join(tmpdir(), 'pilotlight-bench-'));
    const path = join(dir, 'bench.db');
    const store = createSqliteStore({ path });
    const config: SqliteConfig = { path };
    return {
      store,
      childConfig: config,
      async destroy() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },

  async facts() {
    const version = (process.versions as Record<string, string | undefined>).sqlite ?? 'unknown';
    return {
      SQLite: `${version} (node:sqlite), journal_mode=WAL, synchronous=${DEFAULTS.sqlite.synchronous}`,
      'Database dir': tmpdir(),
    };
  },
};
