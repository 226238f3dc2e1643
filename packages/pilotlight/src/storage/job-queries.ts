import { ValidationError } from '../errors.ts';
import { JobStates, type JobRecord, type StateName } from '../types.ts';
import { describe, validateInteger, validateNonEmptyString } from '../validation/validate.ts';
import type { CountJobsFilter, JobSearchPage, ListJobsQuery, SearchJobsQuery } from './store.ts';
import { isStateName } from './unreadable-rows.ts';

/**
 * What the read queries behind a dashboard share across stores (published in `pilotlight/store-kit`):
 * their defaults and bounds, the checks of their input, which states the listing indexes hold, and
 * how a bounded search turns the rows it scanned into a page.
 */

export const QUERY_DEFAULTS = {
  /** Jobs per `listJobs()` page. */
  listLimit: 100,
  /** Matches per `searchJobs()` page. */
  searchLimit: 50,
  /** Jobs one `searchJobs()` call examines at most. */
  scanLimit: 10_000,
} as const;

/** The largest values the read queries accept: a page or a scan beyond them is a mistake, and slow. */
export const QUERY_LIMITS = {
  listLimit: 10_000,
  searchLimit: 1_000,
  scanLimit: 100_000,
  /** Longest search text, in characters. */
  searchText: 1_000,
} as const;

/** How long the per-minute outcome counters are kept: the dashboard shows 24 hours; twice that leaves slack. */
export const OUTCOME_RETENTION_MS = 48 * 60 * 60_000;

/**
 * The states every job passes through on the hot path (enqueued, then claimed): the listing indexes
 * leave them out, so that enqueueing and claiming write no listing index at all, and only a job
 * coming to rest (`Succeeded`, `Failed`, `Deleted`, `Scheduled`, `Awaiting`) writes its entries.
 * Jobs in these states are found through their own partial index instead (the claim's, the leases'),
 * which holds them alone.
 */
export const TRANSIENT_STATES: ReadonlySet<StateName> = new Set([JobStates.Enqueued, JobStates.Processing]);

/**
 * Rows a listing of a transient state first reads newest first, from the cursor on: a backlog is
 * usually the newest jobs, so this finds a page there without sorting the whole state; when it
 * does not, the state's own index is read in full and sorted.
 */
export const TRANSIENT_WALK_ROWS = 5_000;

/** Zero for each of the 7 states: a count's starting point, so every state is a key. */
export function emptyCounts(): Record<StateName, number> {
  return Object.fromEntries(Object.values(JobStates).map((state) => [state, 0])) as Record<StateName, number>;
}

/** The start (epoch ms, UTC) of the minute `at` falls in. */
export function minuteOf(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / 60_000) * 60_000;
}

/** Checks `listJobs()` input; `api` names the call in the messages. */
export function validateListJobsQuery(query: ListJobsQuery, api = 'listJobs()'): void {
  validateObject(query, `${api} query`);
  validateJobFilter(query, api);
  if (query.limit !== undefined) validateInteger(query.limit, `${api} limit`, 1, QUERY_LIMITS.listLimit);
  if (query.offset !== undefined) validateInteger(query.offset, `${api} offset`, 0);
}

export interface ResolvedSearch {
  readonly text: string;
  readonly state: StateName | undefined;
  readonly queue: string | undefined;
  readonly type: string | undefined;
  readonly before: string | undefined;
  readonly limit: number;
  readonly scanLimit: number;
}

/** Checks `searchJobs()` input and fills in the defaults; `api` names the call in the messages. */
export function resolveSearchJobsQuery(query: SearchJobsQuery, api = 'searchJobs()'): ResolvedSearch {
  validateObject(query, `${api} query`);
  validateJobFilter(query, api);
  return {
    text: validateNonEmptyString(query.text, `${api} text`, QUERY_LIMITS.searchText),
    state: query.state,
    queue: query.queue,
    type: query.type,
    before: query.before,
    limit: validateInteger(query.limit ?? QUERY_DEFAULTS.searchLimit, `${api} limit`, 1, QUERY_LIMITS.searchLimit),
    scanLimit: validateInteger(query.scanLimit ?? QUERY_DEFAULTS.scanLimit, `${api} scanLimit`, 1, QUERY_LIMITS.scanLimit),
  };
}

/** Checks `countJobs()` input; `api` names the call in the messages. */
export function validateCountJobsFilter(filter: CountJobsFilter, api = 'countJobs()'): void {
  validateObject(filter, `${api} filter`);
  if (filter.queue !== undefined) validateNonEmptyString(filter.queue, `${api} filter.queue`);
  if (filter.type !== undefined) validateNonEmptyString(filter.type, `${api} filter.type`);
}

/** Checks `countOutcomesPerMinute()` input. */
export function validateSince(since: unknown, api = 'countOutcomesPerMinute()'): Date {
  if (!(since instanceof Date) || Number.isNaN(since.getTime())) {
    throw new ValidationError(`${api} since must be a valid Date; received ${describe(since)}`);
  }
  return since;
}

/** A `before` cursor a store cannot read as one of its ids. */
export function invalidCursor(api: string, before: string): ValidationError {
  return new ValidationError(`${api} before must be the id of a job (the last id of the previous page); received ${describe(before)}`);
}

function validateJobFilter(query: { state?: unknown; queue?: unknown; type?: unknown; before?: unknown }, api: string): void {
  if (query.state !== undefined && !isStateName(query.state)) {
    throw new ValidationError(`${api} state must be one of ${Object.values(JobStates).join(', ')}; received ${describe(query.state)}`);
  }
  if (query.queue !== undefined) validateNonEmptyString(query.queue, `${api} queue`);
  if (query.type !== undefined) validateNonEmptyString(query.type, `${api} type`);
  if (query.before !== undefined) validateNonEmptyString(query.before, `${api} before`);
}

function validateObject(value: unknown, what: string): void {
  if (value === null || typeof value !== 'object') throw new ValidationError(`${what} must be an object; received ${describe(value)}`);
}

/**
 * One row of a search's scan as both stores return it: the candidates (the jobs the filters select,
 * newest first, at most `scanLimit + 1` of them) numbered from 1, `total` of them, of which the
 * store returns the matches (`hit`) among the first `scanLimit`, at most `limit` of them, and the
 * candidate at position `scanLimit`, whether it matches or not.
 */
export interface ScannedRow {
  readonly n: number;
  readonly hit: boolean;
  readonly total: number;
  readonly id: string;
  readonly job: JobRecord;
}

/** A search page, and whether the rows a store read were enough to know it (see `searchPage()`). */
export interface SearchOutcome {
  readonly page: JobSearchPage;
  /**
   * False when the candidates were read from a bounded walk that may have stopped before the ones
   * the page needed: the store must read them another way.
   */
  readonly complete: boolean;
}

/**
 * The page of a bounded search from its scanned rows (`rows` in order of `n`): the scan stops at
 * the `limit`-th match or at the `scanLimit`-th candidate, whichever comes first, and `next` is the
 * candidate it stopped at when an older one is left, so that `before: next` continues right after.
 * `walked`: the candidates came from a walk that stops early (see `TRANSIENT_WALK_ROWS`), so fewer
 * of them than `scanLimit + 1` does not mean no older job is left.
 */
export function searchPage(rows: readonly ScannedRow[], search: ResolvedSearch, walked: boolean): SearchOutcome {
  const total = rows[0]?.total ?? 0;
  const matches = rows.filter((row) => row.hit && row.n <= search.scanLimit).slice(0, search.limit);
  const full = matches.length === search.limit;
  const stop = full ? matches.at(-1)!.n : Math.min(search.scanLimit, total);
  const next = total > stop ? (full ? matches.at(-1)!.id : rows.find((row) => row.n === stop)?.id) : undefined;
  // Past the stop there is a candidate: the walk read every candidate up to the stop.
  return { page: { jobs: matches.map((row) => row.job), next }, complete: !walked || total > stop };
}
