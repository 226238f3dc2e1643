/**
 * The SQLite store's listing and search: jobs newest first (highest id first), filtered, paged by
 * an id cursor (`before`), each page a range read of an index however deep it is.
 */

import type { SQLInputValue } from 'node:sqlite';
import { JobStates, type JobRecord, type StateName } from '../../types.ts';
import {
  invalidCursor,
  QUERY_DEFAULTS,
  searchPage,
  TRANSIENT_STATES,
  TRANSIENT_WALK_ROWS,
  type ResolvedSearch,
  type ScannedRow,
} from '../job-queries.ts';
import type { JobSearchPage, ListJobsQuery } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import { JOB_COLUMNS, toJob, toRowId, type JobRow } from './rows.ts';

/**
 * Migration 3's predicates of the listing indexes, term for term (SQLite uses a partial index only
 * for a query naming each of its terms): every state at rest is in jobs_by_state; all but Succeeded
 * are in jobs_by_queue and jobs_by_type too.
 */
const AT_REST = `state <> 'Enqueued' AND state <> 'Processing'`;
const AT_REST_BUT_SUCCEEDED = `${AT_REST} AND state <> 'Succeeded'`;

/** The partial index that holds a transient state's jobs alone. */
const TRANSIENT_INDEX: Partial<Record<StateName, string>> = { Enqueued: 'jobs_fetch', Processing: 'jobs_leases' };

interface Filter {
  readonly state?: StateName | undefined;
  readonly queue?: string | undefined;
  readonly type?: string | undefined;
  readonly batchId?: string | undefined;
  readonly before?: string | undefined;
}

type Params = Record<string, SQLInputValue>;

/**
 * A query reading the jobs a filter selects, newest first: `sql(select, limit)` is `SELECT select
 * FROM … ORDER BY id DESC LIMIT limit` (`select` over the table's columns).
 */
interface Candidates {
  readonly sql: (select: string, limit: string) => string;
  readonly params: Params;
}

/**
 * How to read the jobs `filter` selects: a range of a listing index for a state at rest (for
 * Succeeded of one queue or type, jobs_by_state walked and filtered); without a state, the primary
 * key newest first; for Enqueued or Processing, first a walk of the newest `TRANSIENT_WALK_ROWS`
 * jobs from the cursor, then, `otherwise` (if it found too few), the state's own partial index,
 * read whole and sorted.
 */
function candidates(filter: Filter, api: string): { first: Candidates; otherwise?: Candidates } {
  const params: Params = {};
  const where: string[] = [];
  if (filter.before !== undefined) {
    const before = toRowId(filter.before);
    if (before === undefined) throw invalidCursor(api, filter.before);
    where.push('id < :before');
    params.before = before;
  }
  const matches: string[] = [];
  if (filter.queue !== undefined) {
    matches.push('queue = :queue');
    params.queue = filter.queue;
  }
  if (filter.type !== undefined) {
    matches.push('type = :type');
    params.type = filter.type;
  }
  const state = filter.state;
  const clause = (terms: string[]) => (terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`);
  if (filter.batchId !== undefined) {
    // A batch's members from jobs_batch: the batch's entries alone, sorted.
    const terms = ['batch_id = :batchId', 'batch_id IS NOT NULL', ...(state === undefined ? [] : ['state = :state']), ...matches, ...where];
    return {
      first: {
        sql: (select, limit) => `SELECT ${select} FROM jobs INDEXED BY jobs_batch ${clause(terms)} ORDER BY id DESC LIMIT ${limit}`,
        params: { ...params, batchId: filter.batchId, ...(state !== undefined && { state }) },
      },
    };
  }
  if (state === undefined) {
    const terms = [...matches, ...where];
    return { first: { sql: (select, limit) => `SELECT ${select} FROM jobs ${clause(terms)} ORDER BY id DESC LIMIT ${limit}`, params } };
  }
  if (!TRANSIENT_STATES.has(state)) {
    // The state as a parameter: as a literal, SQLite could take the state's own partial index
    // (jobs_scheduled, jobs_awaiting), not in id order.
    const terms = ['state = :state', state === JobStates.Succeeded ? AT_REST : AT_REST_BUT_SUCCEEDED, ...matches, ...where];
    return {
      first: {
        sql: (select, limit) => `SELECT ${select} FROM jobs ${clause(terms)} ORDER BY id DESC LIMIT ${limit}`,
        params: { ...params, state },
      },
    };
  }
  // The state as a literal: SQLite matches a partial index's predicate (state = 'Enqueued') at prepare time.
  const literal = `state = '${state}'`;
  return {
    first: {
      sql: (select, limit) =>
        `SELECT ${select} FROM (
           SELECT id, state, queue, type, args FROM jobs ${clause(where)} ORDER BY id DESC LIMIT ${TRANSIENT_WALK_ROWS}
         ) AS jobs ${clause([literal, ...matches])} ORDER BY id DESC LIMIT ${limit}`,
      params,
    },
    // The ids alone are sorted (from the index, without the table when no type is asked for);
    // `select` is computed for the page only.
    otherwise: {
      sql: (select, limit) =>
        `SELECT ${select} FROM jobs WHERE id IN (
           SELECT id FROM jobs INDEXED BY ${TRANSIENT_INDEX[state]} ${clause([literal, ...matches, ...where])} ORDER BY id DESC LIMIT ${limit}
         ) ORDER BY id DESC`,
      params,
    },
  };
}

export function listJobs(connection: SqliteConnection, query: ListJobsQuery): JobRecord[] {
  const limit = query.limit ?? QUERY_DEFAULTS.listLimit;
  const page = ({ sql, params }: Candidates) =>
    connection
      .statement(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id IN (${sql('id', ':limit OFFSET :offset')}) ORDER BY id DESC`)
      .all({ ...params, limit, offset: query.offset ?? 0 }) as unknown as JobRow[];
  const { first, otherwise } = candidates(query, 'listJobs()');
  let rows = page(first);
  if (otherwise && rows.length < limit) rows = page(otherwise);
  return rows.map(toJob);
}

/** The matching test of a search: a substring of the id, the type or the JSON arguments; no wildcard. */
const HIT = `(instr(CAST(id AS TEXT), :text) > 0 OR instr(type, :text) > 0 OR instr(args, :text) > 0)`;

const SEARCH_COLUMNS = JOB_COLUMNS.split(', ')
  .map((column) => `j.${column}`)
  .join(', ');

export function searchJobs(connection: SqliteConnection, search: ResolvedSearch): JobSearchPage {
  // Every candidate numbered in order with its running count of matches; only the matches the page
  // needs and the candidate the scan stops at are read in full.
  const scan = ({ sql, params }: Candidates): ScannedRow[] => {
    const rows = connection
      .statement(
        `WITH scanned AS (${sql(`id, ${HIT} AS hit`, ':scan + 1')}),
         numbered AS (
           SELECT id, hit, row_number() OVER w AS n, sum(hit) OVER w AS k, count(*) OVER () AS total
           FROM scanned WINDOW w AS (ORDER BY id DESC)
         )
         SELECT numbered.n, numbered.hit, numbered.total, ${SEARCH_COLUMNS}
         FROM numbered JOIN jobs AS j ON j.id = numbered.id
         WHERE (numbered.hit AND numbered.n <= :scan AND numbered.k <= :limit) OR numbered.n = :scan
         ORDER BY numbered.n`,
      )
      .all({ ...params, text: search.text, scan: search.scanLimit, limit: search.limit }) as unknown as ScannedJobRow[];
    return rows.map((row) => ({ n: row.n, hit: row.hit === 1, total: row.total, id: String(row.id), job: toJob(row) }));
  };
  const { first, otherwise } = candidates(search, 'searchJobs()');
  const found = searchPage(scan(first), search, otherwise !== undefined);
  return found.complete || !otherwise ? found.page : searchPage(scan(otherwise), search, false).page;
}

interface ScannedJobRow extends JobRow {
  n: number;
  hit: number;
  total: number;
}
