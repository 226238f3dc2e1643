import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` every `interval` ms until it returns a truthy value, or fails after `timeout` ms
 * with `what`. Dependency-free: the PostgreSQL package's tests use it too.
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeout = 10_000, interval = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}
