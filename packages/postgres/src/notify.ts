import type pg from 'pg';

/**
 * NOTIFY in the writing transaction: PostgreSQL delivers it on commit only (never for a rolled
 * back write), to every listening process, this one included. One per distinct queue; the payload
 * is the queue name.
 */
export async function notifyQueues(client: pg.ClientBase, channel: string, queues: readonly string[]): Promise<void> {
  const distinct = [...new Set(queues)];
  if (distinct.length === 0) return;
  await client.query('SELECT pg_notify($1, queue) FROM unnest($2::text[]) AS queue', [channel, distinct]);
}
