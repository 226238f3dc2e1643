/** Waiting for a condition across processes (a scrape, a query, a store read), with a deadline instead of a fixed sleep. */
import { setTimeout as sleep } from 'node:timers/promises';

/** One look at the condition: met (with the value to return), or not yet (with what was seen, for the timeout's message). */
export type Observation<T> = { readonly met: true; readonly value: T } | { readonly met: false; readonly seen: string };

export interface PollOptions {
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** @default 250 */
  readonly intervalMs?: number;
}

/**
 * Calls `observe` until the condition is met and resolves to its value; rejects once `timeoutMs`
 * has passed, naming `condition` and the last thing seen (or the last error `observe` threw).
 */
export async function pollUntil<T>(condition: string, observe: () => Promise<Observation<T>>, options: PollOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 250 } = options;
  const deadline = performance.now() + timeoutMs;
  let seen = 'nothing yet';
  for (;;) {
    try {
      const observation = await observe();
      if (observation.met) return observation.value;
      seen = observation.seen;
    } catch (error) {
      seen = `an error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${condition}; last seen: ${seen}`);
    await sleep(intervalMs);
  }
}
