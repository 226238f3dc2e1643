import type pg from 'pg';

/**
 * Rate-limit windows (migration 4's rate_windows): a fixed window per key that opens at the first
 * start after the previous one closed, `per` ms long, counting its starts. A job's key (`job`) and
 * a queue's own limit (`queue`, keyed by the queue's name) are kept apart by `kind`. Read and
 * written only by claims holding the key's lock (see flow-claim.ts): a window is never written by
 * two claims at once.
 */

export type WindowKind = 'job' | 'queue';

interface RateWindow {
  readonly start: number;
  readonly end: number;
  readonly started: number;
}

/** A row of the windows as the claim reads them (times as epoch ms). */
export interface RateWindowRow {
  readonly kind: WindowKind;
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly started: number;
}

/** The windows of one claim: as read, then as its starts change them. */
export class RateWindows {
  readonly #windows: Map<string, RateWindow>;
  readonly #changed = new Set<string>();

  constructor(rows: readonly RateWindowRow[] = []) {
    this.#windows = new Map(rows.map((row) => [id(row.kind, row.key), { start: row.start, end: row.end, started: row.started }]));
  }

  /** A copy to try starts on, the changes of this one left behind. */
  copy(): RateWindows {
    const copy = new RateWindows();
    for (const [key, window] of this.#windows) copy.#windows.set(key, window);
    return copy;
  }

  /** When a start at `now` would make more than `max` in the open window: that window's end (epoch ms); else undefined. */
  fullUntil(kind: WindowKind, key: string, max: number, now: number): number | undefined {
    const window = this.#windows.get(id(kind, key));
    return window && now < window.end && window.started >= max ? window.end : undefined;
  }

  /** Counts a start at `now`: in the open window, or as the first of a new one of `per` ms. */
  start(kind: WindowKind, key: string, per: number, now: number): void {
    const name = id(kind, key);
    const window = this.#windows.get(name);
    this.#windows.set(
      name,
      window && now < window.end ? { ...window, started: window.started + 1 } : { start: now, end: now + per, started: 1 },
    );
    this.#changed.add(name);
  }

  /** The windows `start()` changed, as rows to write. */
  changed(): RateWindowRow[] {
    return [...this.#changed].map((name) => {
      const [kind, key] = split(name);
      return { kind, key, ...this.#windows.get(name)! };
    });
  }
}

function id(kind: WindowKind, key: string): string {
  return `${kind}:${key}`;
}

function split(name: string): [WindowKind, string] {
  const colon = name.indexOf(':');
  return [name.slice(0, colon) as WindowKind, name.slice(colon + 1)];
}

/** The SELECT (for a UNION ALL) of the windows of `jobKeys` (`$n` text[]) and `queues` (`$m` text[]), as `RateWindowRow` columns. */
export function windowsSelect(s: string, jobKeys: string, queues: string): string {
  return `SELECT kind, key, (extract(epoch FROM window_start) * 1000)::float8 AS start,
                 (extract(epoch FROM window_end) * 1000)::float8 AS "end", started
          FROM ${s}.rate_windows WHERE (kind = 'job' AND key = ANY(${jobKeys})) OR (kind = 'queue' AND key = ANY(${queues}))`;
}

/** Writes the windows a claim changed (the claim holds their locks: plain overwrites). */
export async function writeRateWindows(client: pg.ClientBase, s: string, rows: readonly RateWindowRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO ${s}.rate_windows AS w (kind, key, window_start, window_end, started)
     SELECT kind, key, to_timestamp(start / 1000), to_timestamp("end" / 1000), started
     FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::integer[]) AS r(kind, key, start, "end", started)
     ON CONFLICT (kind, key) DO UPDATE SET window_start = excluded.window_start, window_end = excluded.window_end, started = excluded.started`,
    [rows.map((r) => r.kind), rows.map((r) => r.key), rows.map((r) => r.start), rows.map((r) => r.end), rows.map((r) => r.started)],
  );
}

/**
 * How long after its end, by the clock of the process running maintenance, a window is forgotten.
 * Each claim judges a window by its own process's clock: a window deleted as soon as it closed by
 * one machine's clock could still be open by the clock of a machine running a little behind, whose
 * claims would then open a second window inside the first. A closed window counts for nothing, so
 * keeping it this much longer changes nothing else.
 */
export const FORGET_CLOSED_WINDOW_AFTER_MS = 60_000;

/**
 * Maintenance: deletes at most `limit` windows closed (by `now`, less the margin above), so that a
 * key used once does not keep a row. SKIP LOCKED: a window a claim is rewriting is left to a later
 * pass, and maintenance never waits on a claim's lock nor deadlocks with one. Returns how many.
 */
export async function deleteClosedRateWindows(db: pg.Pool, s: string, now: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM ${s}.rate_windows WHERE (kind, key) IN (
       SELECT kind, key FROM ${s}.rate_windows WHERE window_end <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
     )`,
    [new Date(now.getTime() - FORGET_CLOSED_WINDOW_AFTER_MS), limit],
  );
  return rowCount ?? 0;
}
