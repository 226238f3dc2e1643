/**
 * The quick start, run as the README says, on both stores: the same program and the same jobs give
 * the same histories on the embedded SQLite file and on PostgreSQL. On PostgreSQL (a server other
 * runs share) each run checks its own schema only: what other runs left, or still use, is no concern.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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

/** The schema the quick start names on its `Store:` line: the prefix, when it began (base 36 ms), a random part. */
const SCHEMA = /^pilotlight_quickstart_([0-9a-z]{8})_[0-9a-f]{8}$/;
/** Leftovers of runs killed before their clean-up, dropped once older than this (no run lasts that long). */
const STALE_AFTER_MS = 30 * 60_000;

const admin = new pg.Client({ connectionString: DATABASE_URL });
before(async () => {
  await admin.connect();
  await dropStaleSchemas();
});
after(() => admin.end());

/** Drops quick-start schemas older than STALE_AFTER_MS (never a recent one: another run may be using it). */
async function dropStaleSchemas(): Promise<string[]> {
  const { rows } = await admin.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pilotlight\\_quickstart\\_%'`,
  );
  const stale = rows
    .map((row) => row.nspname)
    .filter((name) => {
      const began = SCHEMA.exec(name)?.[1];
      return began !== undefined && Date.now() - parseInt(began, 36) > STALE_AFTER_MS;
    });
  for (const name of stale) await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => {}); // another run's sweep may be first
  return stale;
}

async function schemaExists(name: string): Promise<boolean> {
  return (await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [name])).rowCount === 1;
}

/** The schema of this run, from its `Store:` line. */
function schemaOf(stdout: string): string {
  const schema = /^Store: PostgreSQL, schema (\S+)/m.exec(stdout)?.[1];
  assert.ok(schema && SCHEMA.test(schema), `a schema named on the Store line: ${stdout}`);
  return schema;
}

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
    assert.match(stdout, new RegExp(`^Store: ${store}\\b`, 'm'));
    assert.deepEqual(histories(stdout), EXPECTED_HISTORIES, stdout);
    assert.match(stdout, /Counts: \{"Enqueued":0,"Scheduled":0,"Awaiting":0,"Processing":0,"Succeeded":4,"Failed":0,"Deleted":0\}/);
  });
}

test("the PostgreSQL run drops its own schema, and leaves another run's alone", { timeout: 90_000 }, async () => {
  // Another run's schema, as a concurrent run (or one killed before its clean-up) leaves it.
  const other = `pilotlight_quickstart_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA "${other}"`);
  try {
    const stdout = await quickstart(['--postgres']);
    const own = schemaOf(stdout);
    assert.notEqual(own, other);
    assert.equal(await schemaExists(own), false, `the run dropped its schema ${own}`);
    assert.equal(await schemaExists(other), true, `the run left ${other} alone`);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`the PostgreSQL run stopped by ${signal} mid-run drops its schema`, { timeout: 90_000 }, async () => {
    const child = spawn(process.execPath, [MAIN, '--postgres'], {
      env: { ...process.env, DATABASE_URL },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    try {
      let stdout = '';
      child.stdout.setEncoding('utf8');
      // Once a job is processing, about a second of work is left (a retry in 0.5 s, a job due in 0.3 s).
      const working = new Promise<void>((resolve) =>
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          if (/→ Processing$/m.test(stdout)) resolve();
        }),
      );
      await Promise.race([working, exited]);
      child.kill(signal);
      const [code] = await exited;
      assert.equal(code, 128 + { SIGINT: 2, SIGTERM: 15 }[signal], `exits as stopped by ${signal}: ${stdout}`);
      assert.match(stdout, new RegExp(`^${signal}: stopping early$`, 'm'));
      assert.doesNotMatch(stdout, /Histories:/, 'stopped before the end');
      const own = schemaOf(stdout);
      assert.equal(await schemaExists(own), false, `the run dropped its schema ${own}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

test('leftovers of quick-start runs older than 30 minutes are dropped, recent schemas are not', async () => {
  const hex = () => randomBytes(4).toString('hex');
  const old = `pilotlight_quickstart_${(Date.now() - STALE_AFTER_MS - 60_000).toString(36)}_${hex()}`;
  const recent = `pilotlight_quickstart_${(Date.now() - 60_000).toString(36)}_${hex()}`;
  const unrecognized = `pilotlight_quickstart_stale_${hex()}`; // not a name the quick start gives: not ours to drop
  try {
    for (const name of [old, recent, unrecognized]) await admin.query(`CREATE SCHEMA "${name}"`);
    assert.ok((await dropStaleSchemas()).includes(old));
    assert.deepEqual(await Promise.all([old, recent, unrecognized].map(schemaExists)), [false, true, true]);
  } finally {
    for (const name of [old, recent, unrecognized]) await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  }
});
