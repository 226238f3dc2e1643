import type { QueueSettings, QueueStats, StateName, Store } from 'pilotlight';
import { formatAbsolute, formatAge, formatConcurrencyLimit, formatRateLimit } from '../html/format.ts';
import type { Links } from '../html/links.ts';

/** One queue as the overview and the queues page show it, and as `/api/overview` sends it. */
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
  /** No worker starts its jobs until it is resumed. */
  readonly paused: boolean;
  /** At most this many of its jobs run at once across every worker; `null`: no limit. */
  readonly concurrencyLimit: number | null;
  /** At most `max` of its jobs start per `per` ms across every worker; `null`: no limit. */
  readonly rateLimit: { readonly max: number; readonly per: number } | null;
  /** Its concurrency limit as the page says it (`at most 5 at once`), or `null`. */
  readonly concurrencyLimitText: string | null;
  /** Its rate limit as the page says it (`10 per 500 ms`), or `null`. */
  readonly rateLimitText: string | null;
  /** What its button posts to: its resume URL while it is paused, its pause URL otherwise. */
  readonly toggleAction: string;
}

/** A queue holding jobs or having settings: its counters (every one 0 without a job) and its stored settings. */
export interface QueueWithSettings {
  readonly queue: string;
  readonly counts: Readonly<Record<StateName, number>>;
  readonly oldestEnqueuedAt: Date | undefined;
  readonly paused: boolean;
  readonly concurrencyLimit: number | null;
  readonly rateLimit: { readonly max: number; readonly per: number } | null;
}

/** The queues page's rows: the counters (`queueStats()`) and the stored settings, two cheap reads. */
export async function readQueueRows(store: Store<unknown>, links: Links, now: Date): Promise<QueueRow[]> {
  const [stats, settings] = await Promise.all([store.queueStats(), store.listQueueSettings()]);
  return queueRows(stats, settings, links, now);
}

/**
 * Every queue holding jobs or having settings (a paused queue whose jobs are all gone still shows,
 * so that it can be resumed), by name: what the queues page, the overview and `pilotlight stats` list.
 */
export function queuesWithSettings(stats: readonly QueueStats[], settings: readonly QueueSettings[]): QueueWithSettings[] {
  const settingsOf = new Map(settings.map((each) => [each.queue, each]));
  const statsOf = new Map(stats.map((each) => [each.queue, each]));
  const names = new Set([...statsOf.keys(), ...settingsOf.keys()]);
  return [...names]
    .sort((a, b) => a.localeCompare(b))
    .map((queue) => {
      const stored = settingsOf.get(queue);
      return {
        queue,
        counts: statsOf.get(queue)?.counts ?? ({} as Record<StateName, number>),
        oldestEnqueuedAt: statsOf.get(queue)?.oldestEnqueuedAt,
        paused: stored?.paused ?? false,
        concurrencyLimit: stored?.concurrencyLimit ?? null,
        rateLimit: stored?.rateLimit ? { max: stored.rateLimit.max, per: stored.rateLimit.per } : null,
      };
    });
}

/** The rows of `queuesWithSettings()` as the pages show them and `/api/overview` sends them. */
export function queueRows(stats: readonly QueueStats[], settings: readonly QueueSettings[], links: Links, now: Date): QueueRow[] {
  return queuesWithSettings(stats, settings).map(({ queue, counts, oldestEnqueuedAt, paused, concurrencyLimit, rateLimit }) => ({
    queue,
    href: links.jobs({ state: 'Enqueued', queue }),
    counts,
    oldestEnqueuedAt: oldestEnqueuedAt?.toISOString() ?? null,
    oldestWaiting: oldestEnqueuedAt === undefined ? '—' : formatAge(oldestEnqueuedAt, now),
    oldestWaitingSince: oldestEnqueuedAt === undefined ? '' : formatAbsolute(oldestEnqueuedAt),
    paused,
    concurrencyLimit,
    rateLimit,
    concurrencyLimitText: concurrencyLimit === null ? null : formatConcurrencyLimit(concurrencyLimit),
    rateLimitText: rateLimit === null ? null : formatRateLimit(rateLimit),
    toggleAction: links.queueAction(queue, paused ? 'resume' : 'pause'),
  }));
}
