import type { JobProgress, JobRecord, StateName, StateRecord } from '../types.ts';
import type { StoreEvent, Transition } from './store.ts';

/**
 * Helpers every store implementation shares (published as `pilotlight/store-kit`), so that stores
 * agree on formats and behaviour without copying each other.
 */

/**
 * A job's history, stored in its own row as comma-separated JSON entries (`{…},{…}`): appending a
 * state is a string concatenation in the UPDATE that changes the state, so a transition writes one
 * row and no second table or index. Times are epoch milliseconds.
 */
export function historyEntry(state: StateRecord): string {
  const entry: Record<string, unknown> = { name: state.name, at: state.at.getTime() };
  if (state.reason !== undefined) entry.reason = state.reason;
  if (state.runAt) entry.runAt = state.runAt.getTime();
  if (state.error) entry.error = state.error;
  if (state.serverName) entry.serverName = state.serverName;
  if (state.attempt !== undefined) entry.attempt = state.attempt;
  if (state.retry) entry.retry = true;
  return JSON.stringify(entry);
}

/** The history written by `historyEntry()`, oldest first. */
export function parseHistory(history: string): StateRecord[] {
  return (JSON.parse(`[${history}]`) as Record<string, any>[]).map((entry) => ({
    ...entry,
    name: entry.name as StateName,
    at: new Date(entry.at),
    ...(entry.runAt !== undefined && { runAt: new Date(entry.runAt) }),
  }));
}

/**
 * Whether a transition's guard pins one attempt (`expect.attempt` and `expect.serverName`) and it
 * carries the job as read: then `pinnedResult()` can build the result without reading the row back.
 */
export function isPinned(change: Transition): change is Transition & { readonly job: JobRecord } {
  return change.job !== undefined && change.expect.attempt !== undefined && change.expect.serverName !== undefined;
}

/** The job after a pinned transition: the job as read, the change, and the two fields others may have written. */
export function pinnedResult(change: Transition & { readonly job: JobRecord }, hasContinuations: boolean, progress: JobProgress | undefined): JobRecord {
  const { job, to } = change;
  return {
    ...job,
    state: to.name,
    stateReason: to.reason,
    stateChangedAt: to.at,
    runAt: change.runAt ?? job.runAt,
    retryCount: change.retryCount ?? job.retryCount,
    attempt: change.attempt ?? job.attempt,
    serverName: undefined,
    leaseUntil: undefined,
    hasContinuations,
    progress,
  };
}

/** A store's subscribers; one that throws neither stops the others nor fails the write already committed. */
export class StoreListeners {
  readonly #listeners = new Set<(event: StoreEvent) => void>();

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: StoreEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`A Pilotlight store listener threw: ${String(error)}`, 'PilotlightWarning');
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
