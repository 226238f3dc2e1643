/** Text the pages show for numbers, times and JSON: one format everywhere, and in `/api/overview`. */

/** `1,234`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** A length of time, coarse as people read it: `12 s`, `4 min`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** An interval as short as a rate limit's can be: `250 ms` below a second, then as `formatDuration()` says it. */
export function formatInterval(ms: number): string {
  return ms < 1000 ? `${formatCount(ms)} ms` : formatDuration(ms);
}

/** A concurrency limit as the pages and the command line say it: `at most 5 at once`. */
export function formatConcurrencyLimit(limit: number): string {
  return `at most ${formatCount(limit)} at once`;
}

/** A rate limit as the pages and the command line say it: `10 per 500 ms`, `100 per 1 min`. */
export function formatRateLimit(limit: { readonly max: number; readonly per: number }): string {
  return `${formatCount(limit.max)} per ${formatInterval(limit.per)}`;
}

/** `3 min ago`, `in 12 s`, `now`. */
export function formatRelative(date: Date, now: Date): string {
  const ms = date.getTime() - now.getTime();
  if (Math.abs(ms) < 1000) return 'now';
  return ms < 0 ? `${formatDuration(ms)} ago` : `in ${formatDuration(ms)}`;
}

/** How long ago `since` was, as every relative time says it (`3 min ago`, `now`); `now` for a time not past yet (clocks differ). */
export function formatAge(since: Date, now: Date): string {
  return formatRelative(since.getTime() > now.getTime() ? now : since, now);
}

/** `2025-06-01 10:41:12 UTC`. */
export function formatAbsolute(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'invalid date' : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `10:41` (UTC). */
export function formatMinute(date: Date): string {
  return date.toISOString().slice(11, 16);
}

/** Indented JSON; `undefined` (which JSON cannot say) as the word. */
export function formatJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? 'undefined';
  } catch (error) {
    return `[not JSON: ${error instanceof Error ? error.message : String(error)}]`;
  }
}

/** `1 job`, `37 jobs`. */
export function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;
}
