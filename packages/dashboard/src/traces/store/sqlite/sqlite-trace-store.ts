import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { StoreClosedError, StoreFullError } from 'pilotlight';
import { TRACE_LIMITS } from '../../../config/defaults.ts';
import type { SpanRecord } from '../../../spans/model.ts';
import type { SpanPage, SpanQuery, TraceStore } from '../../../spans/trace-store.ts';
import { findSpans, type RunQuery } from '../find-spans.ts';
import { getTrace } from '../get-trace.ts';
import { assertRetention } from '../retention.ts';
import { deleteUnusedResourcesSql, groupResources } from '../resources.ts';
import { assertSpans, REPLACE_SPAN, SPAN_WRITE_COLUMNS, spanValues, type SpanRow } from '../span-rows.ts';
import { namedParameters, SQLITE_DIALECT } from './sqlite-dialect.ts';

const UPSERT_RESOURCE =
  'INSERT INTO trace_resources (hash, service, attributes, last_start_us) VALUES (?, ?, ?, ?) ' +
  'ON CONFLICT (hash) DO UPDATE SET last_start_us = max(last_start_us, excluded.last_start_us) RETURNING id';
const INSERT_SPAN = `INSERT INTO trace_spans (${SPAN_WRITE_COLUMNS.join(', ')}) VALUES (${SPAN_WRITE_COLUMNS.map(() => '?').join(', ')}) ${REPLACE_SPAN}`;
const DELETE_BEFORE = 'DELETE FROM trace_spans WHERE seq IN (SELECT seq FROM trace_spans WHERE start_us < ? ORDER BY start_us LIMIT ?)';
const DELETE_OLDEST = 'DELETE FROM trace_spans WHERE seq IN (SELECT seq FROM trace_spans ORDER BY start_us, seq LIMIT ?)';
const DELETE_UNUSED_RESOURCES = deleteUnusedResourcesSql('trace_resources', 'trace_spans');

/** Statements kept prepared at most: the shapes of trace queries are few, their values are parameters. */
const MAX_STATEMENTS = 200;

/**
 * The SQLite trace store: one connection to a file of its own, through `node:sqlite` (synchronous:
 * each call runs to its end on the event loop, retention yields between its batches). Created by
 * `createSqliteTraceStore()`.
 */
export class SqliteTraceStore implements TraceStore {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #checkpointer: { stop(): Promise<void> };
  readonly #statements = new Map<string, StatementSync>();
  readonly #run: RunQuery = async (sql, params) => this.#statement(sql).all(namedParameters(params)) as SpanRow[];
  #closed = false;

  constructor(db: DatabaseSync, path: string, checkpointer: { stop(): Promise<void> }) {
    this.#db = db;
    this.#path = path;
    this.#checkpointer = checkpointer;
  }

  async write(spans: readonly SpanRecord[]): Promise<void> {
    this.#assertOpen();
    assertSpans(spans);
    if (spans.length === 0) return;
    const resources = groupResources(spans);
    this.#transaction(() => {
      const upsert = this.#statement(UPSERT_RESOURCE);
      for (const group of resources.groups) {
        group.id = (upsert.get(group.hash, group.service, group.json, group.lastStartUs) as { id: number }).id;
      }
      // One prepared statement run per span: with node:sqlite that is faster than multi-row VALUES,
      // whose text and bindings grow with the batch.
      const insert = this.#statement(INSERT_SPAN);
      for (const span of spans) {
        const resource = resources.of(span);
        insert.run(...(spanValues(span, resource.service, resource.id, JSON.stringify) as SQLInputValue[]));
      }
    });
  }

  async getTrace(traceId: string, limit: number): Promise<{ readonly spans: readonly SpanRecord[]; readonly truncated: boolean }> {
    this.#assertOpen();
    return getTrace(traceId, limit, SQLITE_DIALECT, this.#run);
  }

  async findSpans(query: SpanQuery): Promise<SpanPage> {
    this.#assertOpen();
    return findSpans(query, SQLITE_DIALECT, this.#run);
  }

  async listServices(): Promise<readonly string[]> {
    const rows = this.#statement('SELECT DISTINCT service FROM trace_resources ORDER BY service').all() as { service: string }[];
    return rows.map((row) => row.service);
  }

  async prune(retention: { readonly olderThanUs: number; readonly maxSpans: number }): Promise<number> {
    this.#assertOpen();
    const { olderThanUs, maxSpans } = assertRetention(retention);
    const batch = TRACE_LIMITS.pruneBatchSpans;
    let deleted = 0;
    // A transaction per batch, the event loop free between them: writes and pages go on meanwhile.
    for (let changes: number = batch; changes === batch; await nextTurn()) {
      changes = this.#transaction(() => Number(this.#statement(DELETE_BEFORE).run(olderThanUs, batch).changes));
      deleted += changes;
    }
    for (let excess = (await this.countSpans()) - maxSpans; excess > 0; await nextTurn()) {
      const changes = this.#transaction(() => Number(this.#statement(DELETE_OLDEST).run(Math.min(excess, batch)).changes));
      if (changes === 0) break;
      deleted += changes;
      excess -= changes;
    }
    if (deleted > 0) this.#transaction(() => this.#statement(DELETE_UNUSED_RESOURCES).run());
    // The planner's statistics, refreshed when the table changed enough (cheap otherwise): without
    // them SQLite guesses that \`duration > 5m\` matches a quarter of the spans, and walks the newest
    // first rather than the duration index.
    this.#statement('PRAGMA optimize = 0x10002').run();
    return deleted;
  }

  /** `count(*)`: SQLite counts the entries of the smallest index, a few ms for a million spans (no counter for every write to keep). */
  async countSpans(): Promise<number> {
    return (this.#statement('SELECT count(*) AS n FROM trace_spans').get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    // The checkpoint thread's connection ends first, so that this one, closing last, checkpoints and removes the WAL file.
    await this.#checkpointer.stop();
    this.#db.close();
  }

  #statement(sql: string): StatementSync {
    this.#assertOpen();
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size >= MAX_STATEMENTS) this.#statements.clear();
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** `work` in a write transaction; `BEGIN IMMEDIATE` takes the write lock up front (no deadlock upgrading a read lock). */
  #transaction<T>(work: () => T): T {
    try {
      this.#statement('BEGIN IMMEDIATE').run();
      try {
        const result = work();
        this.#statement('COMMIT').run();
        return result;
      } catch (error) {
        // SQLite rolls back by itself on some errors (SQLITE_FULL among them); a ROLLBACK then fails.
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): unknown {
    const errcode = (error as { errcode?: unknown } | null)?.errcode;
    if (typeof errcode !== 'number' || (errcode & 0xff) !== SQLITE_FULL) return error;
    return new StoreFullError(
      `The SQLite trace store ${this.#path} could not write: ${(error as Error).message}. Nothing of this write was kept. Free space on the disk (or lower traces.maxSpans); writes succeed again then`,
      { cause: error },
    );
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new StoreClosedError(
        `The SQLite trace store ${this.#path} is closed: create a new one (createSqliteTraceStore()) to use the file again`,
      );
    }
  }
}

/** SQLITE_FULL, "database or disk is full" (extended codes keep it in the low byte). */
const SQLITE_FULL = 13;
