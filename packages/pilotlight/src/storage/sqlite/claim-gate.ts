/**
 * What a claim obeys beyond "the next Enqueued jobs": paused queues, queue concurrency and rate
 * limits, job concurrency keys and job rate limits (see the flow-control comment of `Store`). The
 * gate decides, job by job in claim order, which may start, counting the starts of the claim itself,
 * and tells the claim's query which jobs to leave out from then on, so that the jobs behind a
 * blocked one are claimed in its place (no head-of-line blocking).
 *
 * Everything it reads is read inside the claim's write transaction (`BEGIN IMMEDIATE`): SQLite has
 * one writer at a time, so two workers, in this process or others, never both take a key's last place.
 */

import type { JobRecord } from '../../types.ts';
import type { ClaimRequest } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import { readQueueLimits, type QueueLimits } from './queue-settings.ts';
import { RateWindows } from './rate-windows.ts';

export class ClaimGate {
  readonly #connection: SqliteConnection;
  readonly #limits: Map<string, QueueLimits>;
  readonly #windows: RateWindows;
  /** Queues of the request whose jobs may still be claimed (not paused, not at a limit). */
  readonly #open: Set<string>;
  /** Processing jobs per concurrency key, this claim's included (read on first use). */
  readonly #running = new Map<string, number>();
  /** Processing jobs per queue with a concurrency limit, this claim's included. */
  readonly #queueRunning = new Map<string, number>();
  /**
   * Keys seen at a job's limit, with the count then: the query leaves out their jobs whose limit is
   * at most that (a job of the same key with a higher limit is still read).
   */
  readonly #fullKeys: Record<string, number> = {};
  /** Rate-limit keys seen with a full window, with the starts then, for the same purpose. */
  readonly #fullRates: Record<string, number> = {};
  #anyFull = false;
  /** Per queue: when the first window that passed over one of its jobs closes (the claim's clock, epoch ms). */
  readonly wakes = new Map<string, number>();

  /** A gate obeying the settings of the request's queues (`limits`, from `readQueueLimits()`). */
  constructor(connection: SqliteConnection, request: ClaimRequest, limits: Map<string, QueueLimits>) {
    this.#connection = connection;
    this.#limits = limits;
    this.#windows = new RateWindows(connection, request.now.getTime());
    this.#open = new Set(request.queues);
    for (const [queue, queueLimits] of limits) {
      if (queueLimits.paused || (queueLimits.concurrencyLimit !== undefined && this.#queueCount(queue) >= queueLimits.concurrencyLimit)) {
        this.#open.delete(queue);
      } else if (queueLimits.rateLimit) {
        const until = this.#windows.fullUntil('queue', queue, queueLimits.rateLimit.max);
        if (until !== undefined) this.#close(queue, until);
      }
    }
  }

  /**
   * The gate for a claim of `request` when one of its queues has settings in effect, else
   * `undefined`: the claim then reads as if flow control did not exist, until it meets a job with
   * a key of its own (then `new ClaimGate(…, new Map())`).
   */
  static forQueues(connection: SqliteConnection, request: ClaimRequest): ClaimGate | undefined {
    const limits = readQueueLimits(connection, request.queues);
    return limits.size === 0 ? undefined : new ClaimGate(connection, request, limits);
  }

  /** The queues to read from, in the request's order; empty when none may give a job. */
  get queues(): string[] {
    return [...this.#open];
  }

  /** Whether the claim's query must leave some jobs out (`exclusions()`). */
  get excludes(): boolean {
    return this.#anyFull;
  }

  /** JSON objects of key → count: the jobs the query leaves out (see `#fullKeys`, `#fullRates`). */
  exclusions(): { concurrency: string; rate: string } {
    return { concurrency: JSON.stringify(this.#fullKeys), rate: JSON.stringify(this.#fullRates) };
  }

  /** Whether `job` may start now; if so, counts its start against every limit it is under. */
  admit(job: JobRecord): boolean {
    const queueLimits = this.#limits.get(job.queue);
    if (queueLimits && !this.#open.has(job.queue)) return false;
    const { concurrency, rateLimit } = job;
    if (concurrency) {
      const running = this.#keyCount(concurrency.key);
      if (running >= concurrency.limit) {
        this.#fullKeys[concurrency.key] = running;
        this.#anyFull = true;
        return false;
      }
    }
    if (rateLimit) {
      const until = this.#windows.fullUntil('job', rateLimit.key, rateLimit.max);
      if (until !== undefined) {
        this.#fullRates[rateLimit.key] = this.#windows.started('job', rateLimit.key);
        this.#anyFull = true;
        this.#wake(job.queue, until);
        return false;
      }
    }
    // Every check passed: count the start.
    if (concurrency) {
      const running = this.#running.get(concurrency.key)! + 1;
      this.#running.set(concurrency.key, running);
      if (concurrency.key in this.#fullKeys) this.#fullKeys[concurrency.key] = running;
    }
    if (rateLimit) {
      this.#windows.take('job', rateLimit.key, rateLimit.per);
      if (rateLimit.key in this.#fullRates) this.#fullRates[rateLimit.key] = this.#windows.started('job', rateLimit.key);
    }
    if (queueLimits) this.#countQueueStart(job.queue, queueLimits);
    return true;
  }

  /** Writes what the claim's starts changed (the rate windows). */
  save(): void {
    this.#windows.save();
  }

  #countQueueStart(queue: string, limits: QueueLimits): void {
    if (limits.concurrencyLimit !== undefined) {
      const running = this.#queueRunning.get(queue)! + 1;
      this.#queueRunning.set(queue, running);
      if (running >= limits.concurrencyLimit) this.#open.delete(queue);
    }
    if (limits.rateLimit) {
      this.#windows.take('queue', queue, limits.rateLimit.per);
      const until = this.#windows.fullUntil('queue', queue, limits.rateLimit.max);
      // Full now: the queue's next job waits for the window's end.
      if (until !== undefined) this.#close(queue, until);
    }
  }

  /** No more of `queue`'s jobs in this claim: its rate window is full until `until`. */
  #close(queue: string, until: number): void {
    this.#open.delete(queue);
    this.#wake(queue, until);
  }

  #wake(queue: string, at: number): void {
    const armed = this.wakes.get(queue);
    if (armed === undefined || at < armed) this.wakes.set(queue, at);
  }

  #keyCount(key: string): number {
    let running = this.#running.get(key);
    if (running === undefined) {
      running = (
        this.#connection
          .statement(`SELECT count(*) AS n FROM jobs WHERE state = 'Processing' AND concurrency_key IS NOT NULL AND concurrency_key = ?`)
          .get(key) as { n: number }
      ).n;
      this.#running.set(key, running);
    }
    return running;
  }

  #queueCount(queue: string): number {
    // Through jobs_leases, which holds the Processing jobs alone: as many as the workers run, however many jobs wait.
    const running = (
      this.#connection
        .statement(`SELECT count(*) AS n FROM jobs INDEXED BY jobs_leases WHERE state = 'Processing' AND queue = ?`)
        .get(queue) as { n: number }
    ).n;
    this.#queueRunning.set(queue, running);
    return running;
  }
}
