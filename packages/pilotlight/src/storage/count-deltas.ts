import { JobStates, type StateName } from '../types.ts';
import { minuteOf } from './job-queries.ts';

export interface CountDelta {
  readonly queue: string;
  readonly state: StateName;
  readonly delta: number;
}

export interface OutcomeDelta {
  /** The start of the minute, epoch ms (UTC). */
  readonly minute: number;
  readonly succeeded: number;
  readonly failed: number;
}

/**
 * What one transaction changes in the job counters (jobs per queue and state, outcomes per minute),
 * summed as the writes go, so that the store records one row per (queue, state) and per minute at
 * the end of the transaction whatever the number of jobs it wrote (published in `pilotlight/store-kit`).
 */
export class JobCountDeltas {
  readonly #counts = new Map<string, Map<StateName, number>>();
  readonly #outcomes = new Map<number, { succeeded: number; failed: number }>();

  /** `delta` jobs entered (> 0) or left (< 0) `state` in `queue`: created, or deleted. */
  add(queue: string, state: StateName, delta: number): void {
    let states = this.#counts.get(queue);
    if (!states) this.#counts.set(queue, (states = new Map()));
    states.set(state, (states.get(state) ?? 0) + delta);
  }

  /** A job of `queue` moved from `from` to `to` at `at`; reaching `Succeeded` or `Failed` counts in that minute. */
  moved(queue: string, from: StateName, to: StateName, at: Date): void {
    if (from === to) return;
    this.add(queue, from, -1);
    this.add(queue, to, 1);
    if (to !== JobStates.Succeeded && to !== JobStates.Failed) return;
    const minute = minuteOf(at);
    let outcome = this.#outcomes.get(minute);
    if (!outcome) this.#outcomes.set(minute, (outcome = { succeeded: 0, failed: 0 }));
    if (to === JobStates.Succeeded) outcome.succeeded++;
    else outcome.failed++;
  }

  /** The changes of the counts, those that did not sum to zero. */
  counts(): CountDelta[] {
    const changed: CountDelta[] = [];
    for (const [queue, states] of this.#counts) {
      for (const [state, delta] of states) if (delta !== 0) changed.push({ queue, state, delta });
    }
    return changed;
  }

  outcomes(): OutcomeDelta[] {
    return [...this.#outcomes].map(([minute, { succeeded, failed }]) => ({ minute, succeeded, failed }));
  }
}
