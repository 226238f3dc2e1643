import { JobStates, type StateName } from '../types.ts';
import { minuteOf } from './job-queries.ts';

export interface CountDelta {
  readonly queue: string;
  readonly type: string;
  readonly state: StateName;
  readonly delta: number;
}

export interface OutcomeDelta {
  /** The start of the minute, epoch ms (UTC). */
  readonly minute: number;
  readonly succeeded: number;
  readonly failed: number;
}

const STATES = Object.values(JobStates);
/** A state's place in a row of per-state deltas. */
const STATE_INDEX = Object.fromEntries(STATES.map((state, i) => [state, i])) as Record<StateName, number>;

/**
 * What one transaction changes in the job counters (jobs per queue, type and state; outcomes per
 * minute), summed as the writes go, so that the store records one row per (queue, type, state) and
 * per minute at the end of the transaction whatever the number of jobs it wrote (published in
 * `pilotlight/store-kit`). Called for every job a worker's batch writes: a move is two increments.
 */
export class JobCountDeltas {
  /** By queue, then type: a delta per state, in `STATES` order. */
  readonly #counts = new Map<string, Map<string, number[]>>();
  readonly #outcomes = new Map<number, { succeeded: number; failed: number }>();

  /** `delta` jobs of `type` entered (> 0) or left (< 0) `state` in `queue`: created, or deleted. */
  add(queue: string, type: string, state: StateName, delta: number): void {
    this.#row(queue, type)[STATE_INDEX[state]]! += delta;
  }

  /** A job moved from `from` to `to` at `at`; reaching `Succeeded` or `Failed` counts in that minute. */
  moved(job: { readonly queue: string; readonly type: string }, from: StateName, to: StateName, at: Date): void {
    if (from === to) return;
    const row = this.#row(job.queue, job.type);
    row[STATE_INDEX[from]]!--;
    row[STATE_INDEX[to]]!++;
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
    for (const [queue, types] of this.#counts) {
      for (const [type, row] of types) {
        row.forEach((delta, i) => {
          if (delta !== 0) changed.push({ queue, type, state: STATES[i]!, delta });
        });
      }
    }
    return changed;
  }

  outcomes(): OutcomeDelta[] {
    return [...this.#outcomes].map(([minute, { succeeded, failed }]) => ({ minute, succeeded, failed }));
  }

  #row(queue: string, type: string): number[] {
    let types = this.#counts.get(queue);
    if (!types) this.#counts.set(queue, (types = new Map()));
    let row = types.get(type);
    if (!row) types.set(type, (row = STATES.map(() => 0)));
    return row;
  }
}
