import { setTimeout as delay } from 'node:timers/promises';

/**
 * Wall-clock time in epoch milliseconds with sub-millisecond resolution. Comparable across processes
 * of one machine: each process's `timeOrigin` is read from the system clock when it starts, and
 * `performance.now()` runs on the monotonic clock from there. (The latency scenario measures the
 * remaining offset between two processes and corrects for it.)
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return delay(ms);
}
