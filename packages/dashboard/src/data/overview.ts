import { JobStates, readStoreFigures, type StateName, type Store } from 'pilotlight';
import { LIMITS } from '../config/defaults.ts';
import { chartGeometry, type ChartGeometry } from '../html/chart.ts';
import type { Links } from '../html/links.ts';
import { queueRows, type QueueRow } from './queue-rows.ts';

/** Everything the overview shows, as `/api/overview` sends it for the page to update itself. */
export interface OverviewSnapshot {
  /** When it was read (ISO). */
  readonly at: string;
  readonly counts: Readonly<Record<StateName, number>>;
  readonly queues: readonly QueueRow[];
  readonly chart: ChartGeometry;
  /** Workers whose last heartbeat is less than a minute old. */
  readonly workersAlive: number;
}

export const STATE_NAMES: readonly StateName[] = Object.values(JobStates);

/** How many jobs `counts` has in `states` (every state by default). */
export function totalOf(counts: Readonly<Record<StateName, number>>, states: readonly StateName[] = STATE_NAMES): number {
  return states.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}

/**
 * Reads the overview from the store: counters, outcomes per minute, the queues and workers alive as
 * the metrics gauges read them (`readStoreFigures`), so both show the same figures, and the queues'
 * settings (one read of a table with a row per configured queue).
 */
export async function readOverview(store: Store<unknown>, links: Links, now: Date): Promise<OverviewSnapshot> {
  const since = new Date(now.getTime() - (LIMITS.chartMinutes - 1) * 60_000);
  const [counts, figures, outcomes, settings] = await Promise.all([
    store.countJobs(),
    readStoreFigures(store, now),
    store.countOutcomesPerMinute(since),
    store.listQueueSettings(),
  ]);
  return {
    at: now.toISOString(),
    counts,
    queues: queueRows(figures.queues, settings, links, now),
    chart: chartGeometry(outcomes, now),
    workersAlive: figures.workersAlive,
  };
}

/** A worker counts alive while its last heartbeat is recent, as Pilotlight's `pilotlight.workers` gauge counts it. */
export { isWorkerAlive as isAlive } from 'pilotlight';
