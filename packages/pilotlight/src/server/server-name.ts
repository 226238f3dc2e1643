import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** `host:pid:id`: tells which machine and process ran a job, and stays unique across restarts. */
export function createServerName(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
