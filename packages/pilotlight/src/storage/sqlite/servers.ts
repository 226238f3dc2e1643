/** The workers' rows (`servers`): heartbeats, which also extend the leases of their running jobs. */

import type { ServerRecord } from '../../types.ts';
import type { SqliteConnection } from './connection.ts';
import { toServer, type ServerRow } from './rows.ts';

/** Records the worker and extends the leases of its Processing jobs; returns their ids. */
export function heartbeat(connection: SqliteConnection, server: ServerRecord, leaseUntil: Date): string[] {
  const rows = connection.transaction(() => {
    connection
      .statement(
        `INSERT INTO servers (name, queues, concurrency, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET queues = excluded.queues, concurrency = excluded.concurrency, heartbeat_at = excluded.heartbeat_at`,
      )
      .run(server.name, JSON.stringify(server.queues), server.concurrency, server.startedAt.getTime(), server.heartbeatAt.getTime());
    return connection
      .statement(`UPDATE jobs SET lease_until = ? WHERE state = 'Processing' AND server_name = ? RETURNING id`)
      .all(leaseUntil.getTime(), server.name) as { id: number }[];
  });
  return rows.map((row) => String(row.id));
}

export function removeServer(connection: SqliteConnection, name: string): void {
  connection.write(() => connection.statement('DELETE FROM servers WHERE name = ?').run(name));
}

export function listServers(connection: SqliteConnection): ServerRecord[] {
  return (connection.statement('SELECT * FROM servers ORDER BY started_at').all() as unknown as ServerRow[]).map(toServer);
}

/** Deletes the workers whose last heartbeat is older than `before`; returns how many. */
export function removeStaleServers(connection: SqliteConnection, before: Date): number {
  return Number(connection.write(() => connection.statement('DELETE FROM servers WHERE heartbeat_at < ?').run(before.getTime())).changes);
}
