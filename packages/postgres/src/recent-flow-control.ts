/**
 * Which claims met flow control lately, in this process: the queues of a claim whose plain
 * statement (claim-sql.ts) found a job with a concurrency key or a rate limit, or a limited queue.
 * For a short while after, claims of the same queues skip that statement and go straight to the
 * claim under flow control, which claims jobs without flow control as well: a wasted statement of
 * its own is a commit (the rows it locked), and on a server that flushes each commit to disk that
 * flush costs more than the claim. A hint only, never needed for correctness: either way the
 * claim obeys every limit. When it runs out, the next claim tries the plain statement again, so
 * queues whose flow-controlled jobs are gone soon claim the plain way again.
 */
export class RecentFlowControl {
  /** The claim's queues (joined) → until when (epoch ms) their claims go straight to flow control. */
  readonly #until = new Map<string, number>();
  readonly #forMs: number;

  /** @param forMs how long a sighting lasts. @default 1000 */
  constructor(forMs = 1_000) {
    this.#forMs = forMs;
  }

  /** A claim of `queues` met flow control at `now`. */
  found(queues: readonly string[], now = Date.now()): void {
    this.#until.set(queues.join('\0'), now + this.#forMs);
  }

  /** Whether a claim of `queues` met flow control within the last while. */
  expected(queues: readonly string[], now = Date.now()): boolean {
    const name = queues.join('\0');
    const until = this.#until.get(name);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(name);
    return false;
  }
}
