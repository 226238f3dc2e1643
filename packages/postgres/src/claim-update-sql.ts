import type { ClaimRequest } from 'pilotlight/store-kit';
import { jobColumns } from './rows.ts';
import type { SqlParams } from './sql-params.ts';

/**
 * The UPDATE of a claim: the jobs `next` (`id`, `flow_controlled`) names, unless it is
 * `flow_controlled`, move to Processing, with a lease, the attempt counted and the state in the history.
 */
export function claimedCte(s: string, request: ClaimRequest, p: SqlParams): string {
  return `claimed AS (
       UPDATE ${s}.jobs AS j
       SET state = 'Processing', state_reason = NULL, state_changed_at = ${p.add(request.now)}, attempt = j.attempt + 1,
           server_name = ${p.add(request.serverName)}, lease_until = ${p.add(request.leaseUntil)}, progress = NULL,
           history = j.history || ',{"name":"Processing","at":' || ${p.add(request.now.getTime(), 'bigint')}
                     || ',"serverName":' || ${p.add(JSON.stringify(request.serverName), 'text')} || ',"attempt":' || (j.attempt + 1) || '}'
       FROM next WHERE j.id = next.id AND NOT next.flow_controlled
       RETURNING ${jobColumns('j.')}
     )`;
}

/** The count changes of the claim CTEs: each claimed job left Enqueued for Processing. */
export const CLAIMED_CHANGES = `SELECT queue, type, 'Enqueued'::text AS state, NULL::timestamptz AS minute, -1 AS delta FROM claimed
         UNION ALL SELECT queue, type, 'Processing', NULL, 1 FROM claimed`;
