/**
 * Schemas of the PostgreSQL tests on the shared server, which other runs use at the same time.
 * Every test works in schemas of its own (`testSchema()`), drops them in an `after()` hook, and
 * never looks at anyone else's: `ownSchema()` names one and drops it, `dropSchemas()` drops those
 * a file named. A run killed before its hooks ran leaves its schemas behind:
 * `dropStaleTestSchemas()` drops those old enough that no run can still be using them.
 */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';

/** The shared test server: `PILOTLIGHT_TEST_DATABASE_URL`, then `DATABASE_URL`, then the local server. */
export const TEST_DATABASE_URL =
  process.env.PILOTLIGHT_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const PREFIX = 'pilotlight_test_';
/** `pilotlight_test_<when it was named, base 36 ms>_<random>`: 8 + 12 characters after the prefix. */
const NAME = /^pilotlight_test_([0-9a-z]{8})_[0-9a-f]{12}$/;
/** No test run lasts this long: an older schema is a leftover. */
export const STALE_AFTER_MS = 30 * 60_000;

/** A schema name no other run uses (36 characters: the store allows 48). */
export function testSchema(now = Date.now()): string {
  return `${PREFIX}${now.toString(36)}_${randomBytes(6).toString('hex')}`;
}

/** Drops `schemas` (those that exist) on the shared test server, through a connection of its own. */
export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A schema of the caller's own (`testSchema()`), dropped in an `after()` hook registered now: at
 * the level of the suite or test calling it. The hook first runs `closeFirst` (closing what the
 * caller opened in the schema: this closes nothing itself), and drops the schema even if that, or
 * a test, failed.
 */
export function ownSchema(closeFirst?: () => Promise<unknown>): string {
  const schema = testSchema();
  after(async () => {
    try {
      await closeFirst?.();
    } finally {
      await dropSchemas([schema]);
    }
  });
  return schema;
}

/**
 * Drops the test schemas named more than `STALE_AFTER_MS` ago; returns their names. Names of any
 * other form (an older naming, another prefix) are left alone.
 */
export async function dropStaleTestSchemas(connectionString: string, now = Date.now()): Promise<string[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, [PREFIX]);
    const stale = rows
      .map((row) => row.nspname)
      .filter((name) => {
        const named = NAME.exec(name)?.[1];
        return named !== undefined && now - parseInt(named, 36) > STALE_AFTER_MS;
      });
    for (const name of stale) {
      // Best effort: another run's sweep may drop it first.
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => {});
    }
    return stale;
  } finally {
    await client.end();
  }
}
