import type { ClaimRequest } from 'pilotlight/store-kit';
import { jobColumns } from './rows.ts';
import type { SqlParams } from './sql-params.ts';

/**
 * The claim, as two common table expressions (`next`, then `claimed`, returning every job column):
 * on its own in `claimJobs()`, and after the finished attempts in a busy worker's one-statement batch.
 *
 * `next` takes, from each queue, its first jobs in claim order, then the first of those overall.
 * Per queue, because `queue = ANY(…)` would make PostgreSQL read and sort every Enqueued job of
 * the queues, while `queue = q` walks jobs_fetch in its order and stops at the LIMIT: the claim
 * costs the same with ten jobs waiting or a million. FOR UPDATE SKIP LOCKED passes over rows
 * another claim (or transition) holds, so concurrent workers take different jobs instead of
 * queueing behind each other; under READ COMMITTED a row changed meanwhile is re-checked against
 * `state = 'Enqueued'` before it is locked. With several queues, rows locked but not taken are
 * released with the statement's transaction. UPDATE … RETURNING keeps no order: callers sort.
 */
export function claimCtes(s: string, request: ClaimRequest, p: SqlParams): string {
  const limit = p.add(request.limit, 'integer');
  return `next AS (
       SELECT first.id FROM unnest(${p.add(request.queues, 'text[]')}) AS q(queue), LATERAL (
         SELECT id, priority, run_at FROM ${s}.jobs
         WHERE state = 'Enqueued' AND queue = q.queue
         ORDER BY priority DESC, run_at, id
         LIMIT ${limit}
         FOR UPDATE SKIP LOCKED
       ) AS first
       ORDER BY first.priority DESC, first.run_at, first.id
       LIMIT ${limit}
     ),
     claimed AS (
       UPDATE ${s}.jobs AS j
       SET state = 'Processing', state_reason = NULL, state_changed_at = ${p.add(request.now)}, attempt = j.attempt + 1,
           server_name = ${p.add(request.serverName)}, lease_until = ${p.add(request.leaseUntil)}, progress = NULL,
           history = j.history || ',{"name":"Processing","at":' || ${p.add(request.now.getTime(), 'bigint')}
                     || ',"serverName":' || ${p.add(JSON.stringify(request.serverName), 'text')} || ',"attempt":' || (j.attempt + 1) || '}'
       FROM next WHERE j.id = next.id
       RETURNING ${jobColumns('j.')}
     )`;
}
