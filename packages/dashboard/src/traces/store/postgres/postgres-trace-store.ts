import { StoreClosedError } from 'pilotlight';
import { inPooledTransaction } from 'pilotlight/store-kit';
import { TRACE_LIMITS } from '../../../config/defaults.ts';
import type { SpanRecord } from '../../../spans/model.ts';
import type { SpanPage, SpanQuery, TraceStore } from '../../../spans/trace-store.ts';
import type { SqlDialect } from '../dialect.ts';
import { findSpans, type RunQuery } from '../find-spans.ts';
import { getTrace } from '../get-trace.ts';
import { deleteUnusedResourcesSql, groupResources } from '../resources.ts';
import { assertRetention } from '../retention.ts';
import { assertSpans, REPLACE_SPAN, SPAN_WRITE_COLUMNS, spanValues } from '../span-rows.ts';
import { postgresDialect } from './postgres-dialect.ts';
import type { PoolLike } from './queryable.ts';

/**
 * Second half 'trac' of the advisory lock between writes (shared) and the deletion of unused
 * resources (exclusive), with hashtext(schema): a write refers to a resource row it upserted, and
 * the deletion must not take that row before the write's spans are visible to it.
 */
const RESOURCE_LOCK_CLASS = 0x74726163;

/** How each written column is read from a span's JSON array (`spanValues()` order). */
const COLUMN_CASTS: Readonly<Record<string, string>> = {
  start_us: '::bigint',
  end_us: '::bigint',
  duration_us: '::bigint',
  resource_id: '::bigint',
};
const JSON_COLUMNS: Readonly<Record<string, string>> = { attributes: '', events: '::json', links: '::json' };

/**
 * The PostgreSQL trace store: tables `trace_*` in the job store's schema, on a pool of the caller's
 * (never ended here). Created by `createPostgresTraceStore()`.
 */
export class PostgresTraceStore implements TraceStore {
  readonly #pool: PoolLike;
  readonly #schema: string;
  readonly #dialect: SqlDialect;
  readonly #sql: ReturnType<typeof statements>;
  readonly #run: RunQuery;
  #closed = false;

  constructor(pool: PoolLike, schema: string, s: string) {
    this.#pool = pool;
    this.#schema = schema;
    this.#dialect = postgresDialect(s);
    this.#sql = statements(s);
    this.#run = async (sql, params) => (await this.#pool.query(sql, [...params])).rows;
  }

  /**
   * One transaction, two statements whatever the batch: the resources, then every span, each
   * statement given the whole batch as one jsonb parameter (parsed once: on json, each `->` would
   * parse its element again, three times slower at 17 columns; unnest() of
   * 17 arrays would bind 17 parameters each escaped as an array literal).
   */
  async write(spans: readonly SpanRecord[]): Promise<void> {
    this.#assertOpen();
    assertSpans(spans);
    if (spans.length === 0) return;
    const unique = lastOfEach(spans);
    const resources = groupResources(unique);
    await inPooledTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock_shared($1, hashtext($2))', [RESOURCE_LOCK_CLASS, this.#schema]);
      const { rows } = await client.query(this.#sql.upsertResources, [
        JSON.stringify(resources.groups.map((group) => [group.hash, group.service, group.attributes, group.lastStartUs])),
      ]);
      const ids = new Map(rows.map((row) => [row.hash as string, Number(row.id)]));
      for (const group of resources.groups) group.id = ids.get(group.hash)!;
      const values = unique.map((span) => {
        const resource = resources.of(span);
        return spanValues(span, resource.service, resource.id, (value) => value);
      });
      await client.query(this.#sql.insertSpans, [JSON.stringify(values)]);
    });
  }

  async getTrace(traceId: string, limit: number): Promise<{ readonly spans: readonly SpanRecord[]; readonly truncated: boolean }> {
    this.#assertOpen();
    return getTrace(traceId, limit, this.#dialect, this.#run);
  }

  async findSpans(query: SpanQuery): Promise<SpanPage> {
    this.#assertOpen();
    return findSpans(query, this.#dialect, this.#run);
  }

  async listServices(): Promise<readonly string[]> {
    this.#assertOpen();
    const { rows } = await this.#pool.query(this.#sql.listServices);
    return rows.map((row) => row.service as string);
  }

  async prune(retention: { readonly olderThanUs: number; readonly maxSpans: number }): Promise<number> {
    this.#assertOpen();
    const { olderThanUs, maxSpans } = assertRetention(retention);
    const batch = TRACE_LIMITS.pruneBatchSpans;
    // Each batch one statement, its own transaction: writes go on between them.
    const deleteBatch = async (sql: string, params: unknown[]) => Number((await this.#pool.query(sql, params)).rows[0]!.deleted);
    let deleted = 0;
    // The column is an integer: start_us < 1.5 is start_us < 2.
    for (let changes: number = batch; changes === batch; deleted += changes) {
      changes = await deleteBatch(this.#sql.deleteBefore, [Math.ceil(olderThanUs), batch]);
    }
    for (let excess = (await this.countSpans()) - maxSpans; excess > 0;) {
      const changes = await deleteBatch(this.#sql.deleteOldest, [Math.min(excess, batch)]);
      if (changes === 0) break;
      deleted += changes;
      excess -= changes;
    }
    if (deleted > 0) {
      await inPooledTransaction(this.#pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RESOURCE_LOCK_CLASS, this.#schema]);
        await client.query(this.#sql.deleteUnusedResources);
      });
    }
    return deleted;
  }

  /** The counter the writes and retention keep (see the migration): one row, whatever the table holds. */
  async countSpans(): Promise<number> {
    this.#assertOpen();
    const { rows } = await this.#pool.query(this.#sql.countSpans);
    return Number(rows[0]!.n);
  }

  /** Leaves the pool open: it is the caller's. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new StoreClosedError(
        `The PostgreSQL trace store (schema ${this.#schema}) is closed: create a new one (createPostgresTraceStore()) to use it again`,
      );
    }
  }
}

/** The statements of the store on the tables of schema `s` (quoted). */
function statements(s: string) {
  const columns = SPAN_WRITE_COLUMNS.map((column, index) =>
    column in JSON_COLUMNS ? `(e->${index})${JSON_COLUMNS[column]}` : `(e->>${index})${COLUMN_CASTS[column] ?? ''}`,
  );
  return {
    upsertResources:
      `INSERT INTO ${s}.trace_resources (hash, service, attributes, last_start_us) ` +
      `SELECT e->>0, e->>1, e->2, (e->>3)::bigint FROM jsonb_array_elements($1::jsonb) AS e ` +
      `ON CONFLICT (hash) DO UPDATE SET last_start_us = greatest(${s}.trace_resources.last_start_us, excluded.last_start_us) RETURNING id, hash`,
    // xmax is 0 on a row this statement inserted, not on one it updated (a replaced span): the counter
    // grows by the new spans only.
    insertSpans:
      `WITH written AS (INSERT INTO ${s}.trace_spans (${SPAN_WRITE_COLUMNS.join(', ')}) ` +
      `SELECT ${columns.join(', ')} FROM jsonb_array_elements($1::jsonb) AS e ${REPLACE_SPAN} RETURNING (xmax = 0) AS inserted) ` +
      `UPDATE ${s}.trace_span_count SET n = n + (SELECT count(*) FROM written WHERE inserted)`,
    deleteBefore: deleteSpans(s, `WHERE start_us < $1 ORDER BY start_us LIMIT $2`),
    deleteOldest: deleteSpans(s, `ORDER BY start_us, seq LIMIT $1`),
    deleteUnusedResources: deleteUnusedResourcesSql(`${s}.trace_resources`, `${s}.trace_spans`),
    listServices: `SELECT DISTINCT service FROM ${s}.trace_resources ORDER BY service`,
    countSpans: `SELECT n FROM ${s}.trace_span_count`,
  };
}

/** Deletes the spans `choose` picks (by ctid: no primary key to look them up by), the counter along; returns `deleted`. */
function deleteSpans(s: string, choose: string): string {
  return (
    `WITH deleted AS (DELETE FROM ${s}.trace_spans WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${s}.trace_spans ${choose})) RETURNING 1) ` +
    `UPDATE ${s}.trace_span_count SET n = n - (SELECT count(*) FROM deleted) RETURNING (SELECT count(*) FROM deleted) AS deleted`
  );
}

/**
 * `spans` with only the last of each trace id and span id: one statement cannot upsert a row twice
 * (SQLite, a statement per span, lets the last win the same way).
 */
function lastOfEach(spans: readonly SpanRecord[]): readonly SpanRecord[] {
  const byId = new Map<string, SpanRecord>();
  for (const span of spans) {
    const id = span.traceId + span.spanId;
    byId.delete(id); // re-inserted: a Map keeps insertion order, so the last one's place counts
    byId.set(id, span);
  }
  return byId.size === spans.length ? spans : [...byId.values()];
}
