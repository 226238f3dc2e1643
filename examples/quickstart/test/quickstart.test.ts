/**
 * The quick start, run as the README says, on both stores: the same program and the same jobs give
 * the same histories on the embedded SQLite file and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '..', 'main.ts');
const DATABASE_URL = process.env.PILOTLIGHT_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const EXPECTED_HISTORIES = [
  'TenantService.provisionTenant: Enqueued → Processing → Scheduled → Enqueued → Processing → Succeeded',
  'email.send: Awaiting → Enqueued → Processing → Succeeded',
  'email.send: Scheduled → Enqueued → Processing → Succeeded',
  'email.send: Enqueued → Processing → Succeeded',
];

async function quickstart(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, DATABASE_URL }, timeout: 60_000 });
  return stdout;
}

/** The lines under `Histories:`, without the job ids. */
function histories(stdout: string): string[] {
  const section = stdout.slice(stdout.indexOf('Histories:'), stdout.indexOf('Counts:'));
  return [...section.matchAll(/^ {2}job \d+ (.+)$/gm)].map((match) => match[1]!);
}

for (const [store, args] of [
  ['SQLite', []],
  ['PostgreSQL', ['--postgres']],
] as const) {
  test(`the quick start runs every job to success on ${store}`, { timeout: 90_000 }, async () => {
    const stdout = await quickstart([...args]);
    assert.match(stdout, new RegExp(`^Store: ${store}$`, 'm'));
    assert.deepEqual(histories(stdout), EXPECTED_HISTORIES, stdout);
    assert.match(stdout, /Counts: \{"Enqueued":0,"Scheduled":0,"Awaiting":0,"Processing":0,"Succeeded":4,"Failed":0,"Deleted":0\}/);
  });
}

test('the PostgreSQL run leaves no schema behind', async () => {
  await quickstart(['--postgres']);
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pilotlight_quickstart_%'`);
    assert.deepEqual(rows, []);
  } finally {
    await client.end();
  }
});
