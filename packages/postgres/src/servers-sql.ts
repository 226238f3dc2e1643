import type pg from 'pg';
import type { ServerRecord } from 'pilotlight';
import { toServer, type ServerRow } from './rows.ts';

/**
 * A worker's heartbeat, inside the caller's transaction: records the worker, extends the leases of
 * its jobs, and returns the ids of the jobs still `Processing` under it.
 */
export async function recordHeartbeat(client: pg.ClientBase, s: string, server: ServerRecord, leaseUntil: Date): Promise<string[]> {
  await client.query(
    `INSERT INTO ${s}.servers (name, queues, concurrency, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET queues = excluded.queues, concurrency = excluded.concurrency, heartbeat_at = excluded.heartbeat_at`,
    [server.name, JSON.stringify(server.queues), server.concurrency, server.startedAt, server.heartbeatAt],
  );
  // The worker's jobs are read without locking them, and only the ones no one holds get their
  // lease extended (SKIP LOCKED). A locked one is being finished by this very worker, or
  // requeued by maintenance: waiting for it could deadlock with a batch that locks the same
  // rows in another order, and the next heartbeat extends it if it is still running.
  const { rows } = await client.query<{ id: string }>(
    `WITH extended AS (
       UPDATE ${s}.jobs SET lease_until = $1
       WHERE id IN (SELECT id FROM ${s}.jobs WHERE state = 'Processing' AND server_name = $2 FOR UPDATE SKIP LOCKED)
     )
     SELECT id FROM ${s}.jobs WHERE state = 'Processing' AND server_name = $2`,
    [leaseUntil, server.name],
  );
  return rows.map((row) => row.id);
}

export async function removeServer(db: pg.Pool, s: string, name: string): Promise<void> {
  await db.query(`DELETE FROM ${s}.servers WHERE name = $1`, [name]);
}

export async function listServers(db: pg.Pool, s: string): Promise<ServerRecord[]> {
  const { rows } = await db.query<ServerRow>(`SELECT * FROM ${s}.servers ORDER BY started_at, name`);
  return rows.map(toServer);
}

/** Deletes the workers whose last heartbeat is older than `before`; returns how many. */
export async function removeStaleServers(db: pg.Pool, s: string, before: Date): Promise<number> {
  return (await db.query(`DELETE FROM ${s}.servers WHERE heartbeat_at < $1`, [before])).rowCount ?? 0;
}
