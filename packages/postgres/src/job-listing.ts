/**
 * The PostgreSQL store's listing and search: jobs newest first (highest id first), filtered, paged
 * by an id cursor (`before`), each page a range read of an index however deep it is.
 */

import type pg from 'pg';
import { JobStates, type JobRecord, type StateName } from 'pilotlight';
import type { JobSearchPage, ListJobsQuery, ResolvedSearch, ScannedRow } from 'pilotlight/store-kit';
import { invalidCursor, QUERY_DEFAULTS, searchPage, TRANSIENT_STATES, TRANSIENT_WALK_ROWS } from 'pilotlight/store-kit';
import { jobColumns, toJob, toRowId, type JobRow } from './rows.ts';
import { SqlParams } from './sql-params.ts';

/**
 * Migration 3's predicates of the listing indexes, which queries repeat so that the planner sees
 * they apply whatever it knows of the state: every state at rest is in jobs_by_state; all but
 * Succeeded are in jobs_by_queue and jobs_by_type too.
 */
const AT_REST = `state <> 'Enqueued' AND state <> 'Processing'`;
const AT_REST_BUT_SUCCEEDED = `${AT_REST} AND state <> 'Succeeded'`;

interface Filter {
  readonly state?: StateName | undefined;
  readonly queue?: string | undefined;
  readonly type?: string | undefined;
  readonly before?: string | undefined;
  readonly batchId?: string | undefined;
}

/**
 * A query reading the jobs a filter selects, newest first: `SELECT select FROM … ORDER BY id DESC
 * LIMIT limit` (`select` over the table's columns). Its parameters are in the `SqlParams` it was
 * built with, which the caller goes on adding to.
 */
type Candidates = (select: string, limit: string) => string;

/**
 * How to read the jobs `filter` selects: a range of a listing index for a state at rest (for
 * Succeeded of one queue or type, jobs_by_state walked and filtered); without a state, the primary
 * key newest first; for Enqueued or Processing, first a walk of the newest
 * `TRANSIENT_WALK_ROWS` jobs from the cursor, then, `otherwise` (if it found too few), all the jobs
 * of that state through its own partial index, sorted.
 */
function candidates(
  s: string,
  filter: Filter,
  p: SqlParams,
  { api, hideState }: { api: string; hideState: boolean },
): { first: Candidates; otherwise?: Candidates } {
  const where: string[] = [];
  if (filter.before !== undefined) {
    const before = toRowId(filter.before);
    if (before === undefined) throw invalidCursor(api, filter.before);
    where.push(`id < ${p.add(before, 'bigint')}`);
  }
  const matches: string[] = [];
  if (filter.queue !== undefined) matches.push(`queue = ${p.add(filter.queue, 'text')}`);
  if (filter.type !== undefined) matches.push(`type = ${p.add(filter.type, 'text')}`);
  const state = filter.state;
  const clause = (terms: string[]) => (terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`);
  if (filter.batchId !== undefined) {
    // A batch's members through jobs_batch (by batch and state), sorted: a batch is not the whole table.
    const terms = [
      `batch_id = ${p.add(filter.batchId, 'text')}`,
      ...(state ? [`state = ${p.add(state, 'text')}`] : []),
      ...matches,
      ...where,
    ];
    return { first: (select, limit) => `SELECT ${select} FROM ${s}.jobs ${clause(terms)} ORDER BY id DESC LIMIT ${limit}` };
  }
  if (state === undefined) {
    const terms = [...matches, ...where];
    return { first: (select, limit) => `SELECT ${select} FROM ${s}.jobs ${clause(terms)} ORDER BY id DESC LIMIT ${limit}` };
  }
  if (!TRANSIENT_STATES.has(state)) {
    // A page (a small LIMIT) hides the state from the planner (an InitPlan), and names the listing
    // indexes' predicate so that they still apply: seeing 'Scheduled', the planner may read every
    // Scheduled job through jobs_scheduled and sort them, which it estimates cheap while they are
    // few; not seeing it, it walks a listing index from the cursor and stops at the limit. A search
    // (LIMIT 10001) shows it: not knowing how rare the state is, the planner would walk the primary
    // key through every job instead; knowing, it reads the listing index (ids only, see searchJobs()).
    const value = p.add(state, 'text');
    const restingIndexes = state === JobStates.Succeeded ? AT_REST : AT_REST_BUT_SUCCEEDED;
    const terms = [...(hideState ? [`state = (SELECT ${value})`, restingIndexes] : [`state = ${value}`]), ...matches, ...where];
    return { first: (select, limit) => `SELECT ${select} FROM ${s}.jobs ${clause(terms)} ORDER BY id DESC LIMIT ${limit}` };
  }
  const inState = `state = '${state}'`;
  return {
    first: (select, limit) =>
      `SELECT ${select} FROM (
         SELECT id, state, queue, type, args FROM ${s}.jobs ${clause(where)} ORDER BY id DESC LIMIT ${TRANSIENT_WALK_ROWS}
       ) AS jobs ${clause([inState, ...matches])} ORDER BY id DESC LIMIT ${limit}`,
    // MATERIALIZED: asked for the newest few, the planner could walk the primary key back through
    // every job, however few are in this state; fenced off, it reads the ids of the state's jobs
    // through their partial index (jobs_fetch, jobs_leases) and sorts them. `select` is computed
    // for the page only.
    otherwise: (select, limit) =>
      `WITH in_state AS MATERIALIZED (SELECT id FROM ${s}.jobs ${clause([inState, ...matches, ...where])})
       SELECT ${select} FROM ${s}.jobs WHERE id IN (SELECT id FROM in_state ORDER BY id DESC LIMIT ${limit}) ORDER BY id DESC`,
  };
}

export async function listJobs(db: pg.Pool, s: string, query: ListJobsQuery): Promise<JobRecord[]> {
  const limit = query.limit ?? QUERY_DEFAULTS.listLimit;
  const p = new SqlParams();
  const { first, otherwise } = candidates(s, query, p, { api: 'listJobs()', hideState: true });
  const range = `${p.add(limit, 'integer')} OFFSET ${p.add(query.offset ?? 0, 'integer')}`;
  const page = async (ids: Candidates) =>
    (await db.query<JobRow>(`SELECT ${jobColumns()} FROM ${s}.jobs WHERE id IN (${ids('id', range)}) ORDER BY id DESC`, p.values)).rows;
  let rows = await page(first);
  if (otherwise && rows.length < limit) rows = await page(otherwise);
  return rows.map(toJob);
}

export async function searchJobs(db: pg.Pool, s: string, search: ResolvedSearch): Promise<JobSearchPage> {
  const p = new SqlParams();
  const { first, otherwise } = candidates(s, search, p, { api: 'searchJobs()', hideState: false });
  const text = p.add(search.text, 'text');
  const scanLimit = p.add(search.scanLimit, 'integer');
  const limit = p.add(search.limit, 'integer');
  // A substring of the id, the type or the JSON arguments: strpos has no wildcard (LIKE would make % and _ ones).
  const hit = `(strpos(j.id::text, ${text}) > 0 OR strpos(j.type, ${text}) > 0 OR strpos(j.args, ${text}) > 0)`;
  // The candidates' ids first (from a listing index alone, which the planner then prefers to walking
  // the table), then each one tested by a lookup of its own (a join would let the planner read the
  // whole table once rather than 10,000 rows by id), once (MATERIALIZED: the window functions and
  // the result would each repeat it); every candidate numbered in order with its
  // running count of matches; only the matches the page needs and the candidate the scan stops at
  // are read in full.
  const scan = async (ids: Candidates): Promise<ScannedRow[]> => {
    const { rows } = await db.query<JobRow & { n: string; hit: boolean; total: string }>(
      `WITH candidates AS (${ids('id', `${scanLimit} + 1`)}),
       scanned AS MATERIALIZED (SELECT id, (SELECT ${hit} FROM ${s}.jobs AS j WHERE j.id = candidates.id) AS hit FROM candidates),
       numbered AS (
         SELECT id, hit, row_number() OVER w AS n, count(*) FILTER (WHERE hit) OVER w AS k, count(*) OVER () AS total
         FROM scanned WINDOW w AS (ORDER BY id DESC)
       )
       SELECT numbered.n, numbered.hit, numbered.total, ${jobColumns('j.')}
       FROM numbered JOIN ${s}.jobs AS j ON j.id = numbered.id
       WHERE (numbered.hit AND numbered.n <= ${scanLimit} AND numbered.k <= ${limit}) OR numbered.n = ${scanLimit}
       ORDER BY numbered.n`,
      p.values,
    );
    return rows.map((row) => ({ n: Number(row.n), hit: row.hit, total: Number(row.total), id: row.id, job: toJob(row) }));
  };
  const found = searchPage(await scan(first), search, otherwise !== undefined);
  return found.complete || !otherwise ? found.page : searchPage(await scan(otherwise), search, false).page;
}
