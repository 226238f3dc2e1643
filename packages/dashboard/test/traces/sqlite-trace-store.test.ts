/** The trace store contract on SQLite, and what is SQLite's own: the file, its schema version. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { ErrorCodes } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import type { SpanCondition } from '../../src/spans/conditions.ts';
import { findSpans } from '../../src/traces/store/find-spans.ts';
import { namedParameters, SQLITE_DIALECT } from '../../src/traces/store/sqlite/sqlite-dialect.ts';
import { createSqliteTraceStore } from '../../src/traces/store/sqlite/create-sqlite-trace-store.ts';
import { tempDir } from '../http-support.ts';
import { describeTraceStoreContract } from './store-contract.ts';
import { at, makeSpan } from './support/span-builder.ts';

const dir = tempDir();
let files = 0;
const freshPath = () => join(dir, `traces-${++files}.db`);

describeTraceStoreContract('SQLite', async () => ({ store: createSqliteTraceStore({ path: freshPath() }), cleanup: async () => {} }));

describe('SQLite trace store', () => {
  it('keeps everything in its file across a reopen, in WAL mode', async () => {
    const path = freshPath();
    const spans = [makeSpan({ startUs: at(0) }), makeSpan({ startUs: at(1), resource: { 'service.name': 'api' } })];
    const first = createSqliteTraceStore({ path });
    await first.write(spans);
    await first.close();
    const again = createSqliteTraceStore({ path });
    try {
      assert.deepStrictEqual((await again.findSpans({ where: [], limit: 10, scanLimit: 10 })).spans, [...spans].reverse());
      assert.deepStrictEqual(await again.listServices(), ['api', 'worker']);
    } finally {
      await again.close();
    }
    const db = new DatabaseSync(path);
    try {
      assert.deepStrictEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
      assert.deepStrictEqual({ ...db.prepare('PRAGMA user_version').get() }, { user_version: 1 });
    } finally {
      db.close();
    }
  });

  it('refuses a file of a newer schema version with SCHEMA_TOO_NEW, leaving it as it was', async () => {
    const path = freshPath();
    await createSqliteTraceStore({ path }).close();
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    assert.throws(() => createSqliteTraceStore({ path }), { code: ErrorCodes.SCHEMA_TOO_NEW, message: /version 99/ });
    const check = new DatabaseSync(path);
    assert.deepStrictEqual({ ...check.prepare('PRAGMA user_version').get() }, { user_version: 99 });
    check.close();
  });

  it("refuses the job store's file and a missing path", async () => {
    const path = freshPath();
    await createSqliteStore({ path }).close();
    assert.throws(() => createSqliteTraceStore({ path }), { code: ErrorCodes.VALIDATION, message: /job store's file/ });
    assert.throws(() => createSqliteTraceStore({ path: '' }), { code: ErrorCodes.VALIDATION, message: /options\.path/ });
  });

  it("answers a LIKE prefix, a service, a duration and roots from their indexes (the plans of findSpans' own statements)", async () => {
    const path = freshPath();
    const store = createSqliteTraceStore({ path });
    // A spread of names, services and durations, then retention (which refreshes the planner's statistics).
    const spans = Array.from({ length: 5000 }, (_, index) =>
      makeSpan({
        name: `span ${index % 300}`,
        startUs: at(index),
        durationUs: index % 1000 === 0 ? 400_000_000 : 1000 + (index % 50),
        resource: { 'service.name': `service ${index % 10}` },
      }),
    );
    await store.write(spans);
    await store.prune({ olderThanUs: at(0), maxSpans: 100_000 });
    await store.close();
    const db = new DatabaseSync(path);
    try {
      /** The query plan of each statement findSpans() runs for `where`. */
      const plans = async (where: SpanCondition[], rootsOnly = false) => {
        const details: string[] = [];
        await findSpans({ where, rootsOnly, limit: 10, scanLimit: 100 }, SQLITE_DIALECT, async (sql, params) => {
          const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(namedParameters(params)) as { detail: string }[];
          details.push(rows.map((row) => row.detail).join('; '));
          return db.prepare(sql).all(namedParameters(params));
        });
        return details.join(' | ');
      };
      assert.match(await plans([{ field: 'name', op: 'LIKE', value: 'process %' }]), /INDEX trace_spans_name \(name>\? AND name<\?\)/);
      assert.match(await plans([{ field: 'service', op: '=', value: 'api' }]), /INDEX trace_spans_service \(service=\?\)/);
      assert.match(
        await plans([{ field: 'duration', op: '>', valueUs: 300_000_000 }]),
        /INDEX trace_spans_duration \(duration_us>\? AND duration_us<\?\)/,
      );
      assert.match(await plans([], true), /INDEX trace_spans_roots/);
      assert.match(await plans([{ field: 'trace', op: '=', value: 'a'.repeat(32) }]), /INDEX trace_spans_(trace|id) \(trace_id=\?\)/);
      // The scan's bound reads the start index; the page then reads no span beyond it.
      assert.match(
        await plans([{ field: 'attribute', key: 'task.status', op: '=', value: 'Failed' }]),
        /INDEX trace_spans_start \| .*INDEX trace_spans_start \(start_us>\?\)/,
      );
    } finally {
      db.close();
    }
  });
});
