import type { Logger } from 'pilotlight';
import type { TraceStore } from '../../spans/trace-store.ts';

/** How long and how many spans the trace store keeps (`traces.maxAgeMs`, `traces.maxSpans`). */
export interface RetentionRule {
  readonly maxAgeMs: number;
  readonly maxSpans: number;
}

/**
 * Applies `rule` once: deletes the spans that started more than `maxAgeMs` before `nowMs`, then the
 * oldest beyond `maxSpans`. It never throws: a failed prune is logged and simply runs again at the
 * next interval (the spans it left are deleted then), while the receiver goes on storing spans.
 */
export async function applyRetention(store: TraceStore, rule: RetentionRule, logger: Logger, nowMs: number = Date.now()): Promise<void> {
  try {
    await store.prune({ olderThanUs: (nowMs - rule.maxAgeMs) * 1000, maxSpans: rule.maxSpans });
  } catch (error) {
    logger.error('dashboard: deleting old spans from the trace store failed (retention); it is tried again at the next interval', {
      error,
    });
  }
}

/**
 * Calls `run` every `intervalMs` until the returned function is called. The timer is unref'd: a
 * process whose only remaining work is retention exits.
 */
export function repeatEvery(intervalMs: number, run: () => void): () => void {
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
