/**
 * Fixed-window rate limits (migration 4's `rate_windows`): a window opens at the first start after
 * the previous one closed and lasts `per` ms; at most `max` starts fall in it. A claim reads the
 * windows it needs once, counts its own starts in memory, and writes each window it changed once,
 * inside its transaction: SQLite's single writer makes that read-count-write atomic across processes.
 */

import type { SqliteConnection } from './connection.ts';

/** Which limit a window counts: a job's rate-limit key, or a queue's own limit (keyed by the queue's name). */
export type RateWindowKind = 'job' | 'queue';

interface Window {
  readonly kind: RateWindowKind;
  readonly key: string;
  start: number;
  end: number;
  started: number;
  changed: boolean;
}

export class RateWindows {
  readonly #connection: SqliteConnection;
  /** The claim's `now`, epoch ms. */
  readonly #now: number;
  readonly #windows = new Map<string, Window | undefined>();

  constructor(connection: SqliteConnection, now: number) {
    this.#connection = connection;
    this.#now = now;
  }

  /**
   * When the open window of this limit closes if it has no room for another start (`max` reached),
   * else `undefined` (a start may be taken now).
   */
  fullUntil(kind: RateWindowKind, key: string, max: number): number | undefined {
    const window = this.#open(kind, key);
    return window !== undefined && window.started >= max ? window.end : undefined;
  }

  /** Starts in the open window of this limit (0 when none is open). */
  started(kind: RateWindowKind, key: string): number {
    return this.#open(kind, key)?.started ?? 0;
  }

  /** Counts a start: in the open window, or in a new one of `per` ms opened now. */
  take(kind: RateWindowKind, key: string, per: number): void {
    const open = this.#open(kind, key);
    if (open) {
      open.started++;
      open.changed = true;
    } else this.#windows.set(windowId(kind, key), { kind, key, start: this.#now, end: this.#now + per, started: 1, changed: true });
  }

  /** Writes the windows this claim changed. */
  save(): void {
    for (const window of this.#windows.values()) {
      if (!window?.changed) continue;
      this.#connection
        .statement(
          `INSERT INTO rate_windows (kind, key, window_start, window_end, started) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (kind, key) DO UPDATE SET window_start = excluded.window_start, window_end = excluded.window_end,
             started = excluded.started`,
        )
        .run(window.kind, window.key, window.start, window.end, window.started);
    }
  }

  /** The window of this limit still open at the claim's `now`, read from the table on first use. */
  #open(kind: RateWindowKind, key: string): Window | undefined {
    const id = windowId(kind, key);
    let window = this.#windows.get(id);
    if (window === undefined && !this.#windows.has(id)) {
      const row = this.#connection
        .statement('SELECT window_start, window_end, started FROM rate_windows WHERE kind = ? AND key = ?')
        .get(kind, key) as { window_start: number; window_end: number; started: number } | undefined;
      window = row && { kind, key, start: row.window_start, end: row.window_end, started: row.started, changed: false };
      this.#windows.set(id, window);
    }
    return window !== undefined && this.#now < window.end ? window : undefined;
  }
}

function windowId(kind: RateWindowKind, key: string): string {
  return `${kind}:${key}`;
}

/** Maintenance: forgets the windows closed by `now` (a closed window counts for nothing). */
export function deleteClosedRateWindows(connection: SqliteConnection, now: Date): void {
  connection.statement('DELETE FROM rate_windows WHERE window_end <= ?').run(now.getTime());
}
