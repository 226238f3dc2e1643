import { DEFAULTS } from '../config/defaults.ts';
import type { QueueStats, Store } from '../storage/store.ts';

/** A queue's statistics, with how long its oldest waiting job has waited. */
export interface QueueFigures extends QueueStats {
  /** Seconds since the oldest waiting (`Enqueued`) job became due, at the time of the read; 0 when none waits. */
  readonly lagSeconds: number;
}

/** The store-wide figures the metrics gauges and the dashboard's overview show. */
export interface StoreFigures {
  /** Per queue holding jobs (`store.queueStats()`), as the store returns them. */
  readonly queues: readonly QueueFigures[];
  /** Workers whose last heartbeat is recent (see `isWorkerAlive`). */
  readonly workersAlive: number;
}

/**
 * Reads the store-wide figures: per queue its counts per state and lag, and the workers alive. Two
 * cheap reads (`queueStats()` comes from counters, `listServers()` from one row per worker), run
 * together.
 */
export async function readStoreFigures(store: Store<unknown>, now: Date): Promise<StoreFigures> {
  const [queues, servers] = await Promise.all([store.queueStats(), store.listServers()]);
  let workersAlive = 0;
  for (const server of servers) if (isWorkerAlive(server.heartbeatAt, now)) workersAlive++;
  return {
    queues: queues.map((stats) => ({
      ...stats,
      lagSeconds: stats.oldestEnqueuedAt === undefined ? 0 : Math.max(0, now.getTime() - stats.oldestEnqueuedAt.getTime()) / 1000,
    })),
    workersAlive,
  };
}

/** A worker counts alive while its last heartbeat is under a minute old (`DEFAULTS.metrics.workerAliveMs`). */
export function isWorkerAlive(heartbeatAt: Date, now: Date): boolean {
  return now.getTime() - heartbeatAt.getTime() < DEFAULTS.metrics.workerAliveMs;
}
