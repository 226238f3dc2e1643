import { ValidationError } from 'pilotlight';
import type { SpanRecord } from '../../spans/model.ts';
import type { SpanPage, SpanQuery } from '../../spans/trace-store.ts';
import { compileConditions, isScanned } from './compile-conditions.ts';
import { decodeCursor, encodeCursor, type SpanKey } from './cursor.ts';
import { SqlParams, type SqlDialect } from './dialect.ts';
import { keyOfRow, SPAN_READ_COLUMNS, spanFromRow, spansWithResources, type SpanRow } from './span-rows.ts';

/** Runs one read statement of a store. */
export type RunQuery = (sql: string, params: readonly unknown[]) => Promise<readonly SpanRow[]>;

/** Newest start first; the sequence orders spans that started in the same microsecond. */
const NEWEST_FIRST = 'ORDER BY s.start_us DESC, s.seq DESC';

/**
 * `TraceStore.findSpans()` for both stores. Without attribute conditions, one statement: the
 * indexed conditions, after the `before` key, newest first, one span more than the page to know
 * whether another page follows. With them, the scan is bounded first: a statement finds the key of
 * the `scanLimit`-th span the indexed conditions match (index entries only, no JSON read), and the
 * page's statement reads no span beyond it; a page not full by then stops there (`scanStopped`),
 * its `next` that key, so the next page continues the scan without skipping or repeating a span.
 */
export async function findSpans(query: SpanQuery, dialect: SqlDialect, run: RunQuery): Promise<SpanPage> {
  const { limit, scanLimit } = assertQuery(query);
  const before = query.before === undefined ? undefined : decodeCursor(query.before);
  const indexed = query.where.filter((condition) => !isScanned(condition));
  const scanned = query.where.filter(isScanned);

  let scanEnd: SpanKey | undefined;
  if (scanned.length > 0) {
    const params = new SqlParams(dialect);
    const where = baseTerms(query, indexed, before, dialect, params);
    const [last] = await run(
      `SELECT s.start_us, s.seq FROM ${dialect.spans} AS s ${whereClause(where)} ${NEWEST_FIRST} LIMIT 1 OFFSET ${params.add(scanLimit - 1)}`,
      params.values,
    );
    scanEnd = last === undefined ? undefined : keyOfRow(last);
  }

  const params = new SqlParams(dialect);
  const where = baseTerms(query, indexed, before, dialect, params);
  if (scanEnd !== undefined) {
    const start = params.add(scanEnd.startUs);
    where.push(`s.start_us >= ${start} AND (s.start_us > ${start} OR s.seq >= ${params.add(scanEnd.seq)})`);
  }
  where.push(...compileConditions(scanned, dialect, params));
  const rows = await run(
    `SELECT ${SPAN_READ_COLUMNS} FROM ${spansWithResources(dialect)} ${whereClause(where)} ${NEWEST_FIRST} LIMIT ${params.add(limit + 1)}`,
    params.values,
  );

  const spans: SpanRecord[] = rows.slice(0, limit).map((row) => spanFromRow(row, dialect));
  if (rows.length > limit) return { spans, next: encodeCursor(keyOfRow(rows[limit - 1]!)), scanStopped: false };
  // Every span up to the scan's end was examined: the next page starts after it.
  if (scanEnd !== undefined) return { spans, next: encodeCursor(scanEnd), scanStopped: spans.length < limit };
  return { spans, scanStopped: false };
}

/** The indexed conditions, `rootsOnly` and the `before` key. */
function baseTerms(
  query: SpanQuery,
  indexed: SpanQuery['where'],
  before: SpanKey | undefined,
  dialect: SqlDialect,
  params: SqlParams,
): string[] {
  // Written as the roots index's predicate, term for term: SQLite uses a partial index only then.
  const where = query.rootsOnly === true ? ['s.parent_span_id IS NULL'] : [];
  if (before !== undefined) {
    // The start alone bounds the index range; the sequence only breaks ties.
    const start = params.add(before.startUs);
    where.push(`s.start_us <= ${start} AND (s.start_us < ${start} OR s.seq < ${params.add(before.seq)})`);
  }
  where.push(...compileConditions(indexed, dialect, params));
  return where;
}

function whereClause(terms: readonly string[]): string {
  return terms.length === 0 ? '' : `WHERE ${terms.map((term) => `(${term})`).join(' AND ')}`;
}

/** The most spans one page may ask for. */
const MAX_PAGE_SPANS = 10_000;

function assertQuery(query: SpanQuery): { limit: number; scanLimit: number } {
  if (query === null || typeof query !== 'object' || !Array.isArray(query.where)) {
    throw new ValidationError('findSpans() takes { where: [conditions], limit, scanLimit }: where must be an array (empty for every span)');
  }
  const { limit, scanLimit } = query;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SPANS) {
    throw new ValidationError(`findSpans() query.limit must be an integer from 1 to ${MAX_PAGE_SPANS}; received ${String(limit)}`);
  }
  if (!Number.isSafeInteger(scanLimit) || scanLimit < 1) {
    throw new ValidationError(
      `findSpans() query.scanLimit must be a positive integer (TRACE_LIMITS.scanLimit); received ${String(scanLimit)}`,
    );
  }
  return { limit, scanLimit };
}
