import type pg from 'pg';
import type { ClaimRequest } from 'pilotlight/store-kit';
import { CLAIMED_CHANGES, claimedCte } from './claim-update-sql.ts';
import { deltaCte } from './counters.ts';
import { takeLocks, type LockKind } from './flow-locks.ts';
import { lockQueueLimits, type QueueLimits } from './queue-settings-sql.ts';
import { RateWindows, windowsSelect, writeRateWindows, type RateWindowRow, type WindowKind } from './rate-limit-sql.ts';
import { jobRowFromValues, type JobRow } from './rows.ts';
import type { RecentFlowControl } from './recent-flow-control.ts';
import { preparedArrays, SqlParams } from './sql-params.ts';

/**
 * The claim under flow control: of queues with a concurrency or rate limit, or when the jobs to
 * claim have concurrency keys or rate limits (the plain claim of claim-sql.ts found some and took
 * nothing). Several processes claim at once under READ COMMITTED, so a limit holds only if the claims
 * concerning one key count one after the other, each seeing what the previous one committed:
 *
 * 1. the rows of the limited queues are locked (FOR NO KEY UPDATE, in queue order);
 * 2. candidates are read in claim order (the first few of each open queue), without locking them;
 * 3. the advisory lock of each of their keys is taken (see flow-locks.ts), in ascending order, waiting
 *    for it on the first pass; on later passes only if free (a key another claim holds is passed over
 *    for this claim, so that a claim never waits holding locks it took after another's);
 * 4. a new statement, so a new snapshot taken with the locks held, counts the Processing jobs of each
 *    key and limited queue and reads their rate-limit windows: every claim that held these locks
 *    before has committed, and is counted;
 * 5. the candidates are taken in claim order while their limits allow, counting this claim's own;
 *    a candidate whose key (or queue) is at its limit is passed over, and so are the jobs behind it
 *    with that key, which the next pass leaves out in SQL: no head-of-line blocking, however many
 *    blocked jobs come first;
 * 6. those are claimed (FOR UPDATE SKIP LOCKED: a job another claim took meanwhile is left to it),
 *    and the windows of those that started are written.
 * Passes repeat until the claim has its jobs or no candidate is left. The locks are released when
 * the transaction commits. Jobs without flow control never come here (see claim-sql.ts).
 */

/** What a claim under flow control needs from the store. */
export interface FlowControl {
  /** The queues whose claims met flow control lately (see recent-flow-control.ts). */
  readonly recent: RecentFlowControl;
  /** A job of `queue` was passed over for a rate limit whose window (`window`, a name) closes in `delayMs`. */
  readonly rateLimited: (window: string, delayMs: number, queue: string) => void;
}

/** A candidate's flow control, as the claim reads it. */
interface Candidate {
  readonly id: string;
  readonly queue: string;
  readonly concurrency_key: string | null;
  readonly concurrency_limit: number | null;
  readonly rate_limit_key: string | null;
  readonly rate_limit_max: number | null;
  readonly rate_limit_per: number | null;
}

/** A limit no job has: a key passed over whatever its jobs' limits (its lock is another claim's). */
const ANY_LIMIT = 2_147_483_647;
/** Candidates read per pass: enough that a pass usually finds the claim's jobs past a few blocked keys. */
const MIN_CANDIDATES = 32;

/** What this claim has passed over so far: keys by the highest limit found blocked, full queues, jobs taken by others. */
class PassedOver {
  readonly concurrency = new Map<string, number>();
  readonly rate = new Map<string, number>();
  readonly queues = new Set<string>();
  readonly ids = new Set<string>();

  key(keys: Map<string, number>, key: string, limit: number): void {
    keys.set(key, Math.max(keys.get(key) ?? 0, limit));
  }
}

/** Claims under flow control, in the caller's transaction (whose commit releases the locks); the rows in no order. */
export async function claimUnderFlowControl(client: pg.ClientBase, s: string, request: ClaimRequest, flow: FlowControl): Promise<JobRow[]> {
  const limits = await lockQueueLimits(client, s, request.queues);
  const open = request.queues.filter((queue) => limits.get(queue)?.paused !== true);
  const passed = new PassedOver();
  const held = new Set<string>(); // the keys whose lock this claim holds, `c:key` / `r:key`
  const claimed: JobRow[] = [];
  for (let pass = 0; claimed.length < request.limit; pass++) {
    const queues = open.filter((queue) => !passed.queues.has(queue));
    if (queues.length === 0) break;
    const wanted = request.limit - claimed.length;
    const scan = Math.max(MIN_CANDIDATES, wanted * 4);
    const candidates = await readCandidates(client, s, queues, scan, passed);
    if (candidates.length === 0) break;

    const toLock = new Map<string, { kind: LockKind; key: string }>(); // by name: `c:key` / `r:key`
    for (const job of candidates) {
      if (job.concurrency_key !== null) toLock.set(`c:${job.concurrency_key}`, { kind: 'concurrency', key: job.concurrency_key });
      if (job.rate_limit_key !== null) toLock.set(`r:${job.rate_limit_key}`, { kind: 'rate', key: job.rate_limit_key });
    }
    const newKeys = [...toLock].filter(([name]) => !held.has(name)).map(([, key]) => key);
    for (const name of await takeLocks(client, s, newKeys, pass === 0)) held.add(name);

    const state = await readFlowState(client, s, candidates, held, limits);
    const now = request.now.getTime();
    const chosen = choose(candidates, { ...state, windows: state.windows.copy() }, limits, held, passed, now, wanted, flow);
    const rows = await claimChosen(client, s, request, chosen);
    claimed.push(...rows);

    // The windows count the jobs that did start: replayed in claim order (a chosen job another claim took started nothing).
    const started = new Set(rows.map((row) => row.id));
    for (const job of chosen) {
      if (!started.has(job.id)) {
        passed.ids.add(job.id);
        continue;
      }
      if (job.rate_limit_key !== null) state.windows.start('job', job.rate_limit_key, job.rate_limit_per!, now);
      const queueRate = limits.get(job.queue)?.rateLimit;
      if (queueRate) state.windows.start('queue', job.queue, queueRate.per, now);
    }
    await writeRateWindows(client, s, state.windows.changed());
    if (candidates.length < scan) break; // every candidate left was seen: taken, passed over, or someone else's
  }
  return claimed;
}

/** The first `limit` Enqueued jobs of `queues` in claim order, but those of keys, and the jobs, passed over. */
async function readCandidates(
  client: pg.ClientBase,
  s: string,
  queues: readonly string[],
  limit: number,
  passed: PassedOver,
): Promise<Candidate[]> {
  const { rows } = await client.query<Candidate>(
    // A key passed over at limit L holds back its jobs of limit <= L: the claim only adds to the
    // count of a key (and the starts of a window), so they could not start either.
    `SELECT c.id, c.queue, c.concurrency_key, c.concurrency_limit, c.rate_limit_key, c.rate_limit_max, c.rate_limit_per
     FROM unnest($1::text[]) AS q(queue), LATERAL (
       SELECT id, queue, priority, run_at, concurrency_key, concurrency_limit, rate_limit_key, rate_limit_max, rate_limit_per::float8
       FROM ${s}.jobs AS j
       WHERE state = 'Enqueued' AND queue = q.queue AND id <> ALL($6::bigint[])
         AND (concurrency_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM unnest($2::text[], $3::integer[]) AS b(key, lim) WHERE b.key = j.concurrency_key AND j.concurrency_limit <= b.lim))
         AND (rate_limit_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM unnest($4::text[], $5::integer[]) AS b(key, max) WHERE b.key = j.rate_limit_key AND j.rate_limit_max <= b.max))
       ORDER BY priority DESC, run_at, id
       LIMIT $7
     ) AS c
     ORDER BY c.priority DESC, c.run_at, c.id
     LIMIT $7`,
    [
      queues,
      [...passed.concurrency.keys()],
      [...passed.concurrency.values()],
      [...passed.rate.keys()],
      [...passed.rate.values()],
      [...passed.ids],
      limit,
    ],
  );
  return rows;
}

interface FlowState {
  /** Processing jobs per concurrency key (of the keys whose lock this claim holds). */
  readonly running: Map<string, number>;
  /** Processing jobs per queue with a concurrency limit. */
  readonly queueRunning: Map<string, number>;
  readonly windows: RateWindows;
}

/** One statement, after the locks: what the claims before this one committed. */
async function readFlowState(
  client: pg.ClientBase,
  s: string,
  candidates: readonly Candidate[],
  held: ReadonlySet<string>,
  limits: ReadonlyMap<string, QueueLimits>,
): Promise<FlowState> {
  const distinct = (pick: (job: Candidate) => string | null, prefix: string) => [
    ...new Set(candidates.map(pick).filter((key): key is string => key !== null && held.has(`${prefix}:${key}`))),
  ];
  const queues = [...new Set(candidates.map((job) => job.queue))];
  const countedQueues = queues.filter((queue) => limits.get(queue)?.concurrencyLimit !== undefined);
  const ratedQueues = queues.filter((queue) => limits.get(queue)?.rateLimit !== undefined);
  const p = new SqlParams();
  const { rows } = await client.query(
    preparedArrays(
      // jobs_concurrency_running for the keys; a queue's Processing jobs through jobs_leases, which
      // holds only running jobs (as many as the workers run).
      `SELECT 'key' AS what, NULL AS kind, concurrency_key AS key, count(*)::float8 AS n, NULL::float8 AS start, NULL::float8 AS "end"
       FROM ${s}.jobs WHERE state = 'Processing' AND concurrency_key = ANY(${p.add(
         distinct((job) => job.concurrency_key, 'c'),
         'text[]',
       )})
       GROUP BY concurrency_key
       UNION ALL
       SELECT 'queue', NULL, queue, count(*), NULL, NULL
       FROM ${s}.jobs WHERE state = 'Processing' AND queue = ANY(${p.add(countedQueues, 'text[]')}) GROUP BY queue
       UNION ALL
       SELECT 'window', kind, key, started, start, "end"
       FROM (${windowsSelect(
         s,
         p.add(
           distinct((job) => job.rate_limit_key, 'r'),
           'text[]',
         ),
         p.add(ratedQueues, 'text[]'),
       )}) AS w`,
      p.values,
    ),
  );
  const running = new Map<string, number>();
  const queueRunning = new Map<string, number>();
  const windows: RateWindowRow[] = [];
  for (const [what, kind, key, n, start, end] of rows as [string, WindowKind | null, string, number, number | null, number | null][]) {
    if (what === 'key') running.set(key, n);
    else if (what === 'queue') queueRunning.set(key, n);
    else windows.push({ kind: kind!, key, start: start!, end: end!, started: n });
  }
  return { running, queueRunning, windows: new RateWindows(windows) };
}

/**
 * The candidates to claim, in claim order, while their limits allow, counting the ones chosen
 * before them (in `state`, a copy the caller discards). Records in `passed` what holds the others
 * back, and reports rate-limited ones to `flow` with the time their window has left.
 */
function choose(
  candidates: readonly Candidate[],
  state: FlowState,
  limits: ReadonlyMap<string, QueueLimits>,
  held: ReadonlySet<string>,
  passed: PassedOver,
  now: number,
  wanted: number,
  flow: FlowControl,
): Candidate[] {
  const chosen: Candidate[] = [];
  const rateLimited = (kind: WindowKind, key: string, end: number, queue: string) => flow.rateLimited(`${kind}:${key}`, end - now, queue);
  for (const job of candidates) {
    if (chosen.length === wanted) break;
    const queue = limits.get(job.queue);
    const queueRunning = state.queueRunning.get(job.queue) ?? 0;
    if (queue?.concurrencyLimit !== undefined && queueRunning >= queue.concurrencyLimit) {
      passed.queues.add(job.queue);
      continue;
    }
    const queueFull = queue?.rateLimit && state.windows.fullUntil('queue', job.queue, queue.rateLimit.max, now);
    if (queueFull) {
      passed.queues.add(job.queue);
      rateLimited('queue', job.queue, queueFull, job.queue);
      continue;
    }
    const key = job.concurrency_key;
    if (key !== null) {
      const limit = job.concurrency_limit!;
      if (!held.has(`c:${key}`)) {
        passed.key(passed.concurrency, key, ANY_LIMIT);
        continue;
      }
      if ((state.running.get(key) ?? 0) >= limit) {
        passed.key(passed.concurrency, key, limit);
        continue;
      }
    }
    const rateKey = job.rate_limit_key;
    if (rateKey !== null) {
      if (!held.has(`r:${rateKey}`)) {
        passed.key(passed.rate, rateKey, ANY_LIMIT);
        continue;
      }
      const full = state.windows.fullUntil('job', rateKey, job.rate_limit_max!, now);
      if (full) {
        passed.key(passed.rate, rateKey, job.rate_limit_max!);
        rateLimited('job', rateKey, full, job.queue);
        continue;
      }
      state.windows.start('job', rateKey, job.rate_limit_per!, now);
    }
    if (key !== null) state.running.set(key, (state.running.get(key) ?? 0) + 1);
    if (queue?.concurrencyLimit !== undefined) state.queueRunning.set(job.queue, queueRunning + 1);
    if (queue?.rateLimit) state.windows.start('queue', job.queue, queue.rateLimit.per, now);
    chosen.push(job);
  }
  return chosen;
}

/** Claims the chosen jobs still Enqueued and not locked by another claim. */
async function claimChosen(client: pg.ClientBase, s: string, request: ClaimRequest, chosen: readonly Candidate[]): Promise<JobRow[]> {
  if (chosen.length === 0) return [];
  const p = new SqlParams();
  const { rows } = await client.query(
    preparedArrays(
      `WITH next AS (
         SELECT id, false AS flow_controlled FROM ${s}.jobs
         WHERE id = ANY(${p.add(
           chosen.map((job) => job.id),
           'bigint[]',
         )}) AND state = 'Enqueued'
         FOR UPDATE SKIP LOCKED
       ),
       ${claimedCte(s, request, p)}, ${deltaCte(s, CLAIMED_CHANGES)}
       SELECT * FROM claimed`,
      p.values,
    ),
  );
  return rows.map((values) => jobRowFromValues(values, 0));
}
