/**
 * A steady stream of jobs for a worker in another process: one enqueued every `intervalMs` until
 * `stop()`, while the store's count of the queue's succeeded jobs is sampled, with the time of each
 * read, so that a rate reported elsewhere (Prometheus) can be compared with what the store says.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, JobDefinition } from 'pilotlight';

export interface JobStreamOptions {
  readonly client: Client;
  /** The job enqueued, with `{ n }` (its number in the stream) as arguments. */
  readonly job: JobDefinition<{ n: number }, unknown>;
  readonly queue: string;
  /** @default 25 */
  readonly intervalMs?: number;
  /** @default 250 */
  readonly sampleEveryMs?: number;
}

interface Sample {
  /** `Date.now()` once the read returned. */
  readonly at: number;
  readonly succeeded: number;
}

export class JobStream {
  readonly #options: JobStreamOptions;
  readonly #samples: Sample[] = [];
  #enqueued = 0;
  #stopped = false;
  #running: Promise<unknown> | undefined;

  constructor(options: JobStreamOptions) {
    this.#options = options;
  }

  /** Jobs enqueued so far. */
  get enqueued(): number {
    return this.#enqueued;
  }

  /** When the first sample was read (`Date.now()`), or undefined before it. */
  get sampledSince(): number | undefined {
    return this.#samples[0]?.at;
  }

  start(): void {
    this.#running ??= Promise.all([this.#enqueueLoop(), this.#sampleLoop()]);
  }

  /** Stops enqueueing and sampling; resolves once the last enqueue has returned. Safe to call twice, or before start(). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  /**
   * Succeeded jobs per second between `from` and `to` (`Date.now()` values), as the store counted
   * them: the last samples read at or before each; undefined while `from` precedes the first sample.
   */
  storeRate(from: number, to: number): number | undefined {
    const [first, last] = [this.#sampleAt(from), this.#sampleAt(to)];
    if (first === undefined || last === undefined || last.at <= first.at) return undefined;
    return (last.succeeded - first.succeeded) / ((last.at - first.at) / 1000);
  }

  #sampleAt(time: number): Sample | undefined {
    return this.#samples.findLast((sample) => sample.at <= time);
  }

  async #enqueueLoop(): Promise<void> {
    const { client, job, intervalMs = 25 } = this.#options;
    while (!this.#stopped) {
      await client.enqueue(job, { n: this.#enqueued });
      this.#enqueued++;
      await sleep(intervalMs);
    }
  }

  async #sampleLoop(): Promise<void> {
    const { client, queue, sampleEveryMs = 250 } = this.#options;
    while (!this.#stopped) {
      const { Succeeded } = await client.countJobs({ queue });
      this.#samples.push({ at: Date.now(), succeeded: Succeeded });
      await sleep(sampleEveryMs);
    }
  }
}
