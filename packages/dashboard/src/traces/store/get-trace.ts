import { ValidationError } from 'pilotlight';
import type { SpanRecord } from '../../spans/model.ts';
import { SqlParams, type SqlDialect } from './dialect.ts';
import type { RunQuery } from './find-spans.ts';
import { SPAN_READ_COLUMNS, spanFromRow, spansWithResources } from './span-rows.ts';

const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * `TraceStore.getTrace()` for both stores: the trace's spans through the (trace_id, span_id) index,
 * sorted by start, one span more than `limit` to know it is cut.
 */
export async function getTrace(
  traceId: string,
  limit: number,
  dialect: SqlDialect,
  run: RunQuery,
): Promise<{ readonly spans: readonly SpanRecord[]; readonly truncated: boolean }> {
  if (typeof traceId !== 'string' || !TRACE_ID.test(traceId)) {
    throw new ValidationError(`getTrace() traceId must be 32 lowercase hex digits; received ${JSON.stringify(traceId)?.slice(0, 80)}`);
  }
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new ValidationError(`getTrace() limit must be a positive integer; received ${String(limit)}`);
  const params = new SqlParams(dialect);
  const rows = await run(
    `SELECT ${SPAN_READ_COLUMNS} FROM ${spansWithResources(dialect)} WHERE s.trace_id = ${params.add(traceId)} ORDER BY s.start_us, s.seq LIMIT ${params.add(limit + 1)}`,
    params.values,
  );
  return { spans: rows.slice(0, limit).map((row) => spanFromRow(row, dialect)), truncated: rows.length > limit };
}
