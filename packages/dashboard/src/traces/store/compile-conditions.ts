import { ValidationError } from 'pilotlight';
import type { AttributeCondition, SpanCondition, TextComparison } from '../../spans/conditions.ts';
import { SPAN_KINDS, STATUS_CODES } from '../../spans/model.ts';
import type { SqlDialect, SqlParams } from './dialect.ts';

const ORDERINGS: Readonly<Record<string, string>> = { '=': '=', '!=': '<>', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

/**
 * The SQL of `conditions` (to be joined with AND) over spans `s` and their resource `r`, in either
 * store's dialect, their values added to `params`. Every condition but an attribute's can use an
 * index; attribute conditions read the JSON of each span examined (see `SpanQuery.scanLimit`).
 */
export function compileConditions(conditions: readonly SpanCondition[], dialect: SqlDialect, params: SqlParams): string[] {
  return conditions.map((condition) => compileCondition(condition, dialect, params));
}

/** Whether `condition` reads attributes, which no index holds. */
export function isScanned(condition: SpanCondition): boolean {
  return condition.field === 'attribute';
}

function compileCondition(condition: SpanCondition, dialect: SqlDialect, params: SqlParams): string {
  switch (condition.field) {
    case 'name':
      return compileText('s.name', condition.op, condition.value, dialect, params);
    case 'service':
      return compileText('s.service', condition.op, condition.value, dialect, params);
    case 'kind':
      return compileEnum('s.kind', condition.op, condition.value, SPAN_KINDS, dialect, params);
    case 'status':
      return compileEnum('s.status_code', condition.op, condition.value, STATUS_CODES, dialect, params);
    case 'duration': {
      const op = ORDERINGS[condition.op];
      // An integer, as the column: a fraction of a microsecond would also keep PostgreSQL from its index.
      if (op === undefined || !Number.isSafeInteger(condition.valueUs))
        throw invalid(condition, 'an op of = != > >= < <= and an integer valueUs');
      const term = `s.duration_us ${op} ${params.add(condition.valueUs)}`;
      // `duration > 5m` looks for the rare long spans. Without statistics of the values, SQLite
      // estimates a one-sided range at a quarter of the table and walks the newest spans instead of
      // the duration index; the upper bound every duration meets makes it a two-sided range, which
      // it estimates small (as PostgreSQL's histogram finds it).
      return op === '>' || op === '>=' ? `${term} AND s.duration_us <= ${params.add(Number.MAX_SAFE_INTEGER)}` : term;
    }
    case 'trace':
      if (condition.op !== '=' || typeof condition.value !== 'string') throw invalid(condition, "op '=' and a trace id");
      return `s.trace_id = ${params.add(condition.value)}`;
    case 'attribute':
      return compileAttribute(condition, dialect, params);
    default:
      throw invalid(condition, 'one of the fields name, service, kind, status, duration, trace, attribute');
  }
}

/** A text column (name, service): `=`, `!=`, `LIKE`, `NOT LIKE`, the LIKE narrowed to the index range of its literal prefix. */
function compileText(column: string, op: TextComparison, value: string, dialect: SqlDialect, params: SqlParams): string {
  if (typeof value !== 'string')
    throw new ValidationError(`A trace query's ${column.slice(2)} condition needs a text value; received ${JSON.stringify(value)}`);
  switch (op) {
    case '=':
      return `${column} = ${params.add(value)}`;
    case '!=':
      return `${column} <> ${params.add(value)}`;
    case 'LIKE': {
      const like = dialect.like(column, params.add(dialect.likePattern(value)));
      const range = prefixRange(value);
      if (range === undefined) return like;
      // Neither store uses an index for LIKE itself (SQLite only with case_sensitive_like, which is
      // deprecated; PostgreSQL only in the C collation): the range of the literal prefix is what
      // the (name, start) and (service, start) indexes answer, the LIKE then checks the rest.
      const upper = range.upper === undefined ? '' : ` AND ${column} < ${params.add(range.upper)}`;
      return `${column} >= ${params.add(range.lower)}${upper} AND ${like}`;
    }
    case 'NOT LIKE':
      return dialect.negate(dialect.like(column, params.add(dialect.likePattern(value))));
    default:
      throw new ValidationError(`A trace query's ${column.slice(2)} condition has op ${JSON.stringify(op)}: use =, !=, LIKE or NOT LIKE`);
  }
}

function compileEnum(
  column: string,
  op: '=' | '!=',
  value: string,
  known: readonly string[],
  dialect: SqlDialect,
  params: SqlParams,
): string {
  if (!known.includes(value) || (op !== '=' && op !== '!=')) {
    throw new ValidationError(
      `A trace query's ${column.slice(2)} condition must be = or != one of ${known.join(', ')}; received ${op} ${JSON.stringify(value)}`,
    );
  }
  return `${column} ${op === '=' ? '=' : '<>'} ${params.add(value)}`;
}

/**
 * An attribute condition: the value's type decides how the attribute compares (a string as text,
 * a number numerically, a boolean as such), and an attribute of another type never matches. The
 * negations (`!=`, `NOT LIKE`) are exactly the spans the positive condition does not match, spans
 * without the attribute included.
 */
function compileAttribute(condition: AttributeCondition, dialect: SqlDialect, params: SqlParams): string {
  const { op, value } = condition;
  if (typeof condition.key !== 'string' || condition.key === '') throw invalid(condition, 'a key');
  const json = dialect.attribute(params.add(dialect.attributeKey(condition.key)));
  const negated = op === '!=' || op === 'NOT LIKE';
  let positive: string;
  if (op === 'LIKE' || op === 'NOT LIKE') {
    if (typeof value !== 'string') throw invalid(condition, 'a text value with LIKE');
    positive = dialect.like(dialect.textOf(json), params.add(dialect.likePattern(value)));
  } else if (typeof value === 'boolean') {
    if (op !== '=' && op !== '!=') throw invalid(condition, '= or != with a boolean value');
    positive = dialect.isBoolean(json, value);
  } else {
    const ordering = ORDERINGS[op];
    if (ordering === undefined) throw invalid(condition, 'an op of = != > >= < <= LIKE NOT LIKE');
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalid(condition, 'a finite number');
      positive = `${dialect.numberOf(json)} ${negated ? '=' : ordering} ${params.add(value)}`;
    } else if (typeof value === 'string') {
      positive = `${dialect.textOf(json)} ${negated ? '=' : ordering} ${params.add(value)}`;
    } else {
      throw invalid(condition, 'a string, number or boolean value');
    }
  }
  return negated ? dialect.negate(positive) : positive;
}

/**
 * The range of text a LIKE pattern's literal prefix spans: every text starting with `lower` is at
 * least `lower` and below `upper` (`'process '` to `'process!'`), in code point order, the order
 * of both stores' text columns (SQLite's BINARY, PostgreSQL's "C" collation, UTF-8 both). No
 * `upper` when no text is above the prefix; undefined when the pattern starts with a wildcard.
 */
export function prefixRange(pattern: string): { readonly lower: string; readonly upper?: string } | undefined {
  const wildcard = pattern.search(/[%_]/);
  const lower = wildcard === -1 ? pattern : pattern.slice(0, wildcard);
  if (lower === '') return undefined;
  const codePoints = Array.from(lower);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // The code point after `last`, skipping the surrogates (no text holds them alone).
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return { lower, upper: codePoints.join('') + String.fromCodePoint(next) };
    }
  }
  return { lower };
}

function invalid(condition: SpanCondition, rule: string): ValidationError {
  return new ValidationError(`A trace query's condition ${JSON.stringify(condition)} needs ${rule}`);
}
