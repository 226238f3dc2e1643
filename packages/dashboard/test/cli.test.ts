/** The pilotlight commands on a SQLite file: the shared scenario (cli-scenario.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createSqliteStore } from 'pilotlight/sqlite';
import { commandScenario } from './cli-scenario.ts';

const dir = mkdtempSync(join(tmpdir(), 'pilotlight-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'jobs.db');

commandScenario({
  name: 'SQLite',
  open: async () => createSqliteStore({ path }),
  args: () => ['--sqlite', path],
});
