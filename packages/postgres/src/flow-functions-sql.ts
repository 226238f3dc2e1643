/**
 * Migration 5: the server-side functions of the claim under flow control (see flow-claim.ts and
 * concurrency-key-claim.ts). Like every migration, this text is never edited once shipped: a change
 * to these functions is a new migration that replaces them (CREATE OR REPLACE).
 *
 * - `flow_lock_id(kind, key)`: the advisory lock id of a concurrency key (`kind` 'concurrency') or
 *   a rate-limit key ('rate'): a 64-bit hash of the store's schema, the kind and the key, computed
 *   by the server so that every process agrees on it. Stores in other schemas of the database never
 *   share a lock, nor a concurrency key and a rate-limit key of the same name (a hash collision
 *   would only make two keys take turns).
 * - `take_flow_locks(kinds, keys, wait)`: takes those locks in ascending id order (two claims waiting
 *   for each other's keys then cannot wait in a circle), waiting for each (`wait`) or only those no
 *   other transaction holds (`pg_try_advisory_xact_lock`), and returns the (kind, key) pairs held.
 *   Transaction-level locks: released when the claim's transaction ends.
 * - `claim_with_concurrency_keys(...)`: the claim of jobs with concurrency keys (and jobs without
 *   any flow control among them) in one round trip instead of one per step. Each statement of a
 *   VOLATILE PL/pgSQL function takes a new snapshot under READ COMMITTED, so the running jobs it
 *   counts after taking a key's lock include every claim that held the lock before and committed,
 *   as in the claim written in TypeScript. Queues with a concurrency or rate limit, and jobs with a
 *   rate limit, are left to that claim: the function then returns one row of NULLs after the jobs
 *   it claimed, and the caller claims the rest there. A busy worker's batch calls it in the
 *   statement that finishes its attempts (`p_finishing_*`: id, attempt and worker of each): those
 *   attempts are not counted, whether or not the function sees the statement's own changes, as
 *   long as they still are the ones pinned (if another change came first, the finish does not
 *   apply, and the job counts as it is).
 */
export function flowFunctionsMigration(s: string): string {
  // The schema as a string literal, for the lock ids' seed.
  const schemaLiteral = `'${s.replaceAll("'", "''")}'`;
  return `
  CREATE FUNCTION ${s}.flow_lock_id(kind TEXT, key TEXT) RETURNS BIGINT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $pilotlight$ SELECT hashtextextended(kind || ':' || key, hashtext(${schemaLiteral})) $pilotlight$;

  CREATE FUNCTION ${s}.take_flow_locks(p_kinds TEXT[], p_keys TEXT[], p_wait BOOLEAN)
  RETURNS TABLE (lock_kind TEXT, lock_key TEXT)
  LANGUAGE plpgsql VOLATILE
  AS $pilotlight$
  DECLARE
    l RECORD;
  BEGIN
    FOR l IN
      SELECT ${s}.flow_lock_id(u.k, u.v) AS id, u.k, u.v FROM unnest(p_kinds, p_keys) AS u(k, v) ORDER BY 1
    LOOP
      IF p_wait THEN
        PERFORM pg_advisory_xact_lock(l.id);
      ELSIF NOT pg_try_advisory_xact_lock(l.id) THEN
        CONTINUE;
      END IF;
      lock_kind := l.k;
      lock_key := l.v;
      RETURN NEXT;
    END LOOP;
  END
  $pilotlight$;

  CREATE FUNCTION ${s}.claim_with_concurrency_keys(
    p_queues TEXT[], p_limit INTEGER, p_now TIMESTAMPTZ, p_now_ms BIGINT, p_server TEXT, p_server_json TEXT, p_lease TIMESTAMPTZ,
    p_finishing_ids BIGINT[], p_finishing_attempts INTEGER[], p_finishing_servers TEXT[]
  ) RETURNS SETOF ${s}.jobs
  LANGUAGE plpgsql VOLATILE
  -- Generic plans from the first call on: planning each statement for its values (the first five
  -- calls of each connection, and whenever PostgreSQL finds a custom plan cheaper) cost as much as
  -- running them, and the plans do not depend on the values (index look-ups by queue, key and id).
  SET plan_cache_mode = force_generic_plan
  AS $pilotlight$
  DECLARE
    hand_back ${s}.jobs; -- all NULL: the rest is for the claim in TypeScript
    open_queues TEXT[];
    v_limited BOOLEAN;
    v_claimed INTEGER := 0;
    v_wanted INTEGER;
    v_scan INTEGER;
    v_count INTEGER;
    v_rated BOOLEAN;
    v_ids BIGINT[];
    v_keys TEXT[];
    v_limits INTEGER[];
    -- The keys whose lock this claim holds, with their running jobs as counted after taking it plus
    -- those this claim took; the keys whose lock another claim held.
    v_held TEXT[] := '{}';
    v_run_keys TEXT[] := '{}';
    v_run_counts INTEGER[] := '{}';
    v_refused TEXT[] := '{}';
    v_first BOOLEAN := true;
    v_mine BIGINT[];
    v_try TEXT[];
    v_new TEXT[];
    v_from INTEGER;
    v_to INTEGER;
    -- Keys passed over, each by the highest limit found blocked (2147483647: its lock is another
    -- claim's); a key passed over at limit L holds back its jobs of limit <= L, which could not
    -- start either (a claim only adds to a key's count). Jobs chosen before are left out too.
    v_blocked_keys TEXT[] := '{}';
    v_blocked_limits INTEGER[] := '{}';
    v_passed_ids BIGINT[] := '{}';
    v_chosen BIGINT[];
    v_key TEXT;
    v_limit INTEGER;
    v_pos INTEGER;
    v_n INTEGER;
  BEGIN
    -- The open queues, and whether one of them has a limit (then the claim in TypeScript claims).
    SELECT coalesce(bool_or(qs.concurrency_limit IS NOT NULL OR qs.rate_limit_max IS NOT NULL) FILTER (WHERE NOT qs.paused), false),
           coalesce(array_agg(q.queue) FILTER (WHERE qs.paused IS NOT TRUE), '{}')
    INTO v_limited, open_queues
    FROM unnest(p_queues) AS q(queue) LEFT JOIN ${s}.queue_settings AS qs ON qs.queue = q.queue;
    IF v_limited THEN
      RETURN NEXT hand_back;
      RETURN;
    END IF;
    LOOP
      v_wanted := p_limit - v_claimed;
      EXIT WHEN v_wanted <= 0;
      -- Enough that a pass usually finds the claim's jobs past a few blocked keys (a pass more
      -- costs no round trip: few candidates, each one a look-up less for the usual claim).
      v_scan := greatest(8, v_wanted * 4);
      -- The first jobs of each open queue in claim order, then the first overall, but those passed over.
      SELECT array_agg(c.id ORDER BY c.priority DESC, c.run_at, c.id),
             array_agg(c.concurrency_key ORDER BY c.priority DESC, c.run_at, c.id),
             array_agg(c.concurrency_limit ORDER BY c.priority DESC, c.run_at, c.id),
             coalesce(bool_or(c.rate_limit_key IS NOT NULL), false), count(*)
      INTO v_ids, v_keys, v_limits, v_rated, v_count
      FROM (
        SELECT c.* FROM unnest(open_queues) AS q(queue), LATERAL (
          SELECT j.id, j.priority, j.run_at, j.concurrency_key, j.concurrency_limit, j.rate_limit_key
          FROM ${s}.jobs AS j
          WHERE j.state = 'Enqueued' AND j.queue = q.queue AND j.id <> ALL(v_passed_ids)
            AND (j.concurrency_key IS NULL OR NOT EXISTS (
              SELECT FROM unnest(v_blocked_keys, v_blocked_limits) AS b(key, lim) WHERE b.key = j.concurrency_key AND j.concurrency_limit <= b.lim))
          ORDER BY j.priority DESC, j.run_at, j.id
          LIMIT v_scan
        ) AS c
        ORDER BY c.priority DESC, c.run_at, c.id
        LIMIT v_scan
      ) AS c;
      EXIT WHEN v_count = 0;
      IF v_rated THEN
        RETURN NEXT hand_back;
        RETURN;
      END IF;

      -- The candidates in claim order while their keys allow, counting the ones chosen before, a
      -- stretch at a time: as many as the claim still wants. Their rows are locked first (SKIP
      -- LOCKED: a job another claim is taking is its, and this claim never waits for that claim's
      -- keys), then their keys' locks (those not tried yet), then they are judged. So a claim locks
      -- about as many keys as it takes jobs, and concurrent claims take different jobs side by side.
      v_chosen := '{}';
      v_from := 1;
      WHILE v_from <= v_count AND cardinality(v_chosen) < v_wanted LOOP
        v_to := least(v_count, v_from + v_wanted - cardinality(v_chosen) - 1);
        -- One look-up by id per candidate: with \`id = ANY(…)\` a generic plan may walk jobs_fetch
        -- (whose last column is the id) from end to end. With the keys whose lock to try.
        SELECT coalesce(array_agg(l.id), '{}'),
               coalesce(array_agg(DISTINCT l.key) FILTER (WHERE l.key IS NOT NULL AND l.key <> ALL(v_held) AND l.key <> ALL(v_refused)), '{}')
        INTO v_mine, v_try
        FROM unnest(v_ids[v_from:v_to]) AS c(id), LATERAL (
          SELECT j.id, j.concurrency_key AS key FROM ${s}.jobs AS j WHERE j.id = c.id AND j.state = 'Enqueued' FOR UPDATE SKIP LOCKED
        ) AS l;
        IF cardinality(v_try) > 0 THEN
          -- Waited for at the claim's first locks; later only taken if free, so that the claim
          -- never waits holding locks it took after another's. A key whose lock another claim
          -- holds is passed over for this claim.
          SELECT coalesce(array_agg(l.lock_key), '{}') INTO v_new
          FROM ${s}.take_flow_locks(array_fill('concurrency'::TEXT, ARRAY[cardinality(v_try)]), v_try, v_first) AS l;
          v_first := false;
          v_held := v_held || v_new;
          v_refused := v_refused || ARRAY(SELECT k FROM unnest(v_try) AS k WHERE k <> ALL(v_new));
          -- A new statement, so a new snapshot, taken with the locks held: every claim that held
          -- them before has committed, and its jobs are counted.
          SELECT v_run_keys || coalesce(array_agg(r.key), '{}'), v_run_counts || coalesce(array_agg(r.n), '{}')
          INTO v_run_keys, v_run_counts
          FROM (
            SELECT k.key, (
              SELECT count(*)::INTEGER FROM ${s}.jobs AS j
              WHERE j.state = 'Processing' AND j.concurrency_key = k.key AND NOT EXISTS (
                SELECT FROM unnest(p_finishing_ids, p_finishing_attempts, p_finishing_servers) AS f(id, attempt, server)
                WHERE f.id = j.id AND f.attempt = j.attempt AND f.server = j.server_name)
            ) AS n
            FROM unnest(v_new) AS k(key)
          ) AS r;
        END IF;
        FOR i IN v_from..v_to LOOP
          IF v_ids[i] <> ALL(v_mine) THEN
            v_passed_ids := v_passed_ids || v_ids[i];
            CONTINUE;
          END IF;
          v_key := v_keys[i];
          IF v_key IS NOT NULL THEN
            v_pos := array_position(v_run_keys, v_key); -- NULL: refused
            IF v_pos IS NULL OR v_run_counts[v_pos] >= v_limits[i] THEN
              v_limit := CASE WHEN v_pos IS NULL THEN 2147483647 ELSE v_limits[i] END;
              v_pos := array_position(v_blocked_keys, v_key);
              IF v_pos IS NULL THEN
                v_blocked_keys := v_blocked_keys || v_key;
                v_blocked_limits := v_blocked_limits || v_limit;
              ELSE
                v_blocked_limits[v_pos] := greatest(v_blocked_limits[v_pos], v_limit);
              END IF;
              CONTINUE;
            END IF;
            v_run_counts[v_pos] := v_run_counts[v_pos] + 1;
          END IF;
          v_chosen := v_chosen || v_ids[i];
        END LOOP;
        v_from := v_to + 1;
      END LOOP;

      -- The chosen jobs, whose rows this claim locked while they were Enqueued.
      IF cardinality(v_chosen) > 0 THEN
        RETURN QUERY
        WITH claimed AS (
          UPDATE ${s}.jobs AS j
          SET state = 'Processing', state_reason = NULL, state_changed_at = p_now, attempt = j.attempt + 1,
              server_name = p_server, lease_until = p_lease, progress = NULL,
              history = j.history || ',{"name":"Processing","at":' || p_now_ms || ',"serverName":' || p_server_json
                        || ',"attempt":' || (j.attempt + 1) || '}'
          FROM unnest(v_chosen) AS c(id) WHERE j.id = c.id
          RETURNING j.*
        ),
        counted AS (
          INSERT INTO ${s}.job_count_deltas (queue, type, state, minute, delta)
          SELECT c.queue, c.type, d.state, NULL, sum(d.delta)
          FROM claimed AS c, (VALUES ('Enqueued', -1), ('Processing', 1)) AS d(state, delta)
          GROUP BY c.queue, c.type, d.state
        )
        SELECT * FROM claimed;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_claimed := v_claimed + v_n;
        v_passed_ids := v_passed_ids || v_chosen;
      END IF;
      -- Every candidate left was seen: taken, passed over, or someone else's.
      EXIT WHEN v_count < v_scan;
    END LOOP;
  END
  $pilotlight$;
  `;
}
