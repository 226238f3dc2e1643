import { JobStates, type StateName } from '../types.ts';
import { minuteOf } from './job-queries.ts';

export interface CountDelta {
  readonly queue: string;
  readonly type: string;
  readonly state: StateName;
  readonly delta: number;
}

/** A count change with, for jobs that reached `Succeeded` or `Failed`, the minute they did (its start, epoch ms). */
export interface DeltaRow extends CountDelta {
  readonly minute: number | undefined;
}

const STATES = Object.values(JobStates);
/** A state's place in a row of per-state deltas. */
const STATE_INDEX = Object.fromEntries(STATES.map((state, i) => [state, i])) as Record<StateName, number>;

/** Per (queue, type): the changes per state (in `STATES` order) of the moves that reached no outcome, and the outcomes by minute. */
interface Entry {
  readonly states: number[];
  readonly outcomes: Map<number, { succeeded: number; failed: number }>;
}

/**
 * What one transaction changes in the job counters (jobs per queue, type and state; outcomes per
 * minute), summed as the writes go, so that the store records one row per key at the end of the
 * transaction whatever the number of jobs it wrote (published in `pilotlight/store-kit`). Called for
 * every job a worker's batch writes: a move is two increments. Jobs that reached `Succeeded` or
 * `Failed` are kept apart by minute: both stores count them in rows of that minute until they fold
 * them into the state's count and the outcomes.
 */
export class JobCountDeltas {
  readonly #entries = new Map<string, Map<string, Entry>>();

  /** `delta` jobs of `type` entered (> 0) or left (< 0) `state` in `queue`: created, or deleted. */
  add(queue: string, type: string, state: StateName, delta: number): void {
    this.#entry(queue, type).states[STATE_INDEX[state]]! += delta;
  }

  /** A job moved from `from` to `to` at `at`; reaching `Succeeded` or `Failed` counts in that minute. */
  moved(job: { readonly queue: string; readonly type: string }, from: StateName, to: StateName, at: Date): void {
    if (from === to) return;
    const entry = this.#entry(job.queue, job.type);
    entry.states[STATE_INDEX[from]]!--;
    if (to !== JobStates.Succeeded && to !== JobStates.Failed) {
      entry.states[STATE_INDEX[to]]!++;
      return;
    }
    const minute = minuteOf(at);
    let outcome = entry.outcomes.get(minute);
    if (!outcome) entry.outcomes.set(minute, (outcome = { succeeded: 0, failed: 0 }));
    if (to === JobStates.Succeeded) outcome.succeeded++;
    else outcome.failed++;
  }

  /**
   * The changes, those that did not sum to zero: of the count of (queue, type, state) and, for jobs
   * that reached `Succeeded` or `Failed`, with the minute they did (`undefined` for the others).
   */
  rows(): DeltaRow[] {
    const rows: DeltaRow[] = [];
    this.#each((queue, type, { states, outcomes }) => {
      states.forEach((delta, i) => {
        if (delta !== 0) rows.push({ queue, type, state: STATES[i]!, minute: undefined, delta });
      });
      for (const [minute, { succeeded, failed }] of outcomes) {
        if (succeeded !== 0) rows.push({ queue, type, state: JobStates.Succeeded, minute, delta: succeeded });
        if (failed !== 0) rows.push({ queue, type, state: JobStates.Failed, minute, delta: failed });
      }
    });
    return rows;
  }

  #entry(queue: string, type: string): Entry {
    let types = this.#entries.get(queue);
    if (!types) this.#entries.set(queue, (types = new Map()));
    let entry = types.get(type);
    if (!entry) types.set(type, (entry = { states: STATES.map(() => 0), outcomes: new Map() }));
    return entry;
  }

  #each(visit: (queue: string, type: string, entry: Entry) => void): void {
    for (const [queue, types] of this.#entries) for (const [type, entry] of types) visit(queue, type, entry);
  }
}
