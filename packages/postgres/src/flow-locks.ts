import type pg from 'pg';

/**
 * The locks that serialize claims per concurrency key and per rate-limit key: transaction-level
 * advisory locks (released at commit), one per key, whose ids the server computes
 * (`flow_lock_id()`, migration 5: a hash of the store's schema, the kind of key and the key), so that
 * the claim in TypeScript and the one in PL/pgSQL (`claim_with_concurrency_keys()`) take the same
 * lock for a key.
 */

export type LockKind = 'concurrency' | 'rate';

/** A key to lock, as the claim names it: `c:key` (a concurrency key) or `r:key` (a rate-limit key). */
const NAME_PREFIX: Record<LockKind, string> = { concurrency: 'c:', rate: 'r:' };

/**
 * Takes the locks of `keys` (ascending by id, so that two claims waiting for each other's keys
 * cannot wait in a circle: `take_flow_locks()`) and returns the names (`c:key`, `r:key`) of those
 * held: all of them when `wait`, else those no other transaction holds (`pg_try_advisory_xact_lock`,
 * which never waits).
 */
export async function takeLocks(
  client: pg.ClientBase,
  s: string,
  keys: readonly { kind: LockKind; key: string }[],
  wait: boolean,
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await client.query<{ lock_kind: LockKind; lock_key: string }>(
    `SELECT lock_kind, lock_key FROM ${s}.take_flow_locks($1::text[], $2::text[], $3)`,
    [keys.map((k) => k.kind), keys.map((k) => k.key), wait],
  );
  return new Set(rows.map((row) => `${NAME_PREFIX[row.lock_kind]}${row.lock_key}`));
}
