import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * The locks that serialize claims per concurrency key and per rate-limit key: transaction-level
 * advisory locks (released at commit), one per key, identified by a 64-bit hash of the store's
 * schema, the kind of key and the key. Stores in other schemas of the database never share one,
 * nor a concurrency key and a rate-limit key of the same name. (A hash collision would only make
 * two keys take turns.)
 */

export type LockKind = 'concurrency' | 'rate';

/** The advisory lock id of a key: the first 8 bytes of a SHA-1, as a signed BIGINT (decimal text). */
export function lockId(schema: string, kind: LockKind, key: string): string {
  return createHash('sha1').update(`${schema}\0${kind}\0${key}`).digest().readBigInt64BE(0).toString();
}

/**
 * Takes the locks `ids` (ascending, so that two claims waiting for each other's keys cannot wait in a
 * circle) and returns those held: all of them when `wait`, else those no other transaction holds
 * (`pg_try_advisory_xact_lock`, which never waits).
 */
export async function takeLocks(client: pg.ClientBase, ids: readonly string[], wait: boolean): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const sorted = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  if (wait) {
    await client.query('SELECT pg_advisory_xact_lock(id) FROM unnest($1::bigint[]) WITH ORDINALITY AS l(id, n) ORDER BY n', [sorted]);
    return new Set(sorted);
  }
  const { rows } = await client.query<{ id: string }>(
    'SELECT id::text FROM unnest($1::bigint[]) WITH ORDINALITY AS l(id, n) WHERE pg_try_advisory_xact_lock(id) ORDER BY n',
    [sorted],
  );
  return new Set(rows.map((row) => row.id));
}
