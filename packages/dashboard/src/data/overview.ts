import { JobStates, readStoreFigures, type QueueStats, type StateName, type Store } from 'pilotlight';
import { LIMITS } from '../config/defaults.ts';
import { chartGeometry, type ChartGeometry } from '../html/chart.ts';
import { formatAbsolute, formatAge } from '../html/format.ts';
import type { Links } from '../html/links.ts';

/** One queue as the overview and the queues page show it. */
export interface QueueRow {
  readonly queue: string;
  /** Its jobs list (`Enqueued` tab). */
  readonly href: string;
  readonly counts: Readonly<Record<StateName, number>>;
  /** When its oldest waiting job became due (ISO), or `null`. */
  readonly oldestEnqueuedAt: string | null;
  /** How long that job has waited (`3 min ago`), or `—`. */
  readonly oldestWaiting: string;
  /** The same time as people read it (`2025-06-01 10:41:12 UTC`), or `''`. */
  readonly oldestWaitingSince: string;
}

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
 * Reads the overview from the store: counters, outcomes per minute, and the queues and workers
 * alive as the metrics gauges read them (`readStoreFigures`), so both show the same figures.
 */
export async function readOverview(store: Store<unknown>, links: Links, now: Date): Promise<OverviewSnapshot> {
  const since = new Date(now.getTime() - (LIMITS.chartMinutes - 1) * 60_000);
  const [counts, figures, outcomes] = await Promise.all([
    store.countJobs(),
    readStoreFigures(store, now),
    store.countOutcomesPerMinute(since),
  ]);
  return {
    at: now.toISOString(),
    counts,
    queues: queueRows(figures.queues, links, now),
    chart: chartGeometry(outcomes, now),
    workersAlive: figures.workersAlive,
  };
}

export function queueRows(queues: readonly QueueStats[], links: Links, now: Date): QueueRow[] {
  return [...queues]
    .sort((a, b) => a.queue.localeCompare(b.queue))
    .map((stats) => ({
      queue: stats.queue,
      href: links.jobs({ state: 'Enqueued', queue: stats.queue }),
      counts: stats.counts,
      oldestEnqueuedAt: stats.oldestEnqueuedAt?.toISOString() ?? null,
      oldestWaiting: stats.oldestEnqueuedAt === undefined ? '—' : formatAge(stats.oldestEnqueuedAt, now),
      oldestWaitingSince: stats.oldestEnqueuedAt === undefined ? '' : formatAbsolute(stats.oldestEnqueuedAt),
    }));
}

/** A worker counts alive while its last heartbeat is recent, as Pilotlight's `pilotlight.workers` gauge counts it. */
export { isWorkerAlive as isAlive } from 'pilotlight';
