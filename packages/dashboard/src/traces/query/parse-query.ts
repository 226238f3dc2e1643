import { ValidationError } from 'pilotlight';
import { TRACE_LIMITS } from '../../config/defaults.ts';
import type { Comparison, SpanCondition, TextComparison } from '../../spans/conditions.ts';
import { SPAN_KINDS, STATUS_CODES, type SpanKind, type SpanStatusCode } from '../../spans/model.ts';
import { parseDuration } from './durations.ts';
import { queryError } from './query-error.ts';
import { tokenize, type Token } from './tokenize.ts';

export { formatTraceQuery } from './format-query.ts';

/**
 * The trace query language of the traces page: conditions joined by `AND`, each `subject op value`.
 *
 * - subjects: `name`, `service` (the resource's `service.name`), `kind`, `status`, `duration`,
 *   `trace` (or `traceId`); anything else is an attribute key: a dotted identifier
 *   (`pilotlight.job.type`, `task.duration_ms`) or, for other characters, a double-quoted key;
 * - operators: `=` (or `==`), `!=`, `>`, `>=`, `<`, `<=`, `LIKE`, `NOT LIKE` (`%` any run of
 *   characters, `_` one), keywords in any case;
 * - values: quoted strings (double quotes take JSON escapes), numbers, `true`/`false`; a kind or
 *   status by name in any case (`ERROR`, `server`); a duration (`5m`, `1.5s`, `300ms`, `250us`,
 *   `100ns`, a bare number being ms); a trace id (32 hex digits).
 *
 * `name LIKE "process %" AND status = ERROR`, `duration > 5m`, `task.status = "Failed"`.
 */

/** What an identifier names when it is not an attribute key. */
const SUBJECTS: Readonly<Record<string, 'name' | 'service' | 'kind' | 'status' | 'duration' | 'trace'>> = {
  name: 'name',
  service: 'service',
  kind: 'kind',
  status: 'status',
  duration: 'duration',
  trace: 'trace',
  traceId: 'trace',
};

const IDENTIFIER = /^[A-Za-z_][\w.-]*$/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRACE_ID = /^[0-9a-fA-F]{32}$/;

type Operator = Comparison | 'LIKE' | 'NOT LIKE';

/**
 * The conditions of `text`, all of which a span must match; empty text (or only spaces) is no
 * condition.
 *
 * @throws ValidationError when `text` does not parse: the message gives the column and what the
 * position takes (`status > ERROR`: kind and status compare only with = and !=).
 */
export function parseTraceQuery(text: string): SpanCondition[] {
  if (text.length > TRACE_LIMITS.maxQueryLength) {
    throw new ValidationError(`A trace query is at most ${TRACE_LIMITS.maxQueryLength} characters; received ${text.length}: shorten it`);
  }
  const tokens = tokenize(text);
  const conditions: SpanCondition[] = [];
  if (tokens.length === 0) return conditions;
  const end = text.length + 1;
  let pos = 0;
  for (;;) {
    const { condition, next } = parseCondition(tokens, pos, end);
    conditions.push(condition);
    if (next === tokens.length) return conditions;
    const joiner = tokens[next]!;
    if (joiner.type !== 'word' || joiner.text.toUpperCase() !== 'AND') {
      throw queryError(joiner.column, `expected AND or the end of the query after a condition; received ${show(joiner)}`);
    }
    pos = next + 1;
    if (pos === tokens.length) throw queryError(end, 'expected a condition after AND; received the end of the query');
  }
}

/** The condition starting at `tokens[pos]`, and the index of the token after it. */
function parseCondition(tokens: readonly Token[], pos: number, end: number): { condition: SpanCondition; next: number } {
  const subject = tokens[pos]!;
  let field: (typeof SUBJECTS)[string] | 'attribute';
  if (subject.type === 'string') field = 'attribute';
  else if (subject.type === 'word' && IDENTIFIER.test(subject.text))
    field = Object.hasOwn(SUBJECTS, subject.text) ? SUBJECTS[subject.text]! : 'attribute';
  else {
    throw queryError(
      subject.column,
      `expected a condition (name, service, kind, status, duration, trace or an attribute key; a key of other characters in double quotes); received ${show(subject)}`,
    );
  }
  const { op, next: valueAt } = parseOperator(tokens, pos + 1, end, subject);
  const valueToken = tokens[valueAt];
  if (valueToken === undefined) throw queryError(end, `expected a value after ${subject.text} ${op}; received the end of the query`);
  const condition = conditionOf(field, subject, op, valueToken);
  return { condition, next: valueAt + 1 };
}

function parseOperator(tokens: readonly Token[], pos: number, end: number, subject: Token): { op: Operator; next: number } {
  const token = tokens[pos];
  if (token?.type === 'op') return { op: token.text === '==' ? '=' : (token.text as Comparison), next: pos + 1 };
  const keyword = token?.type === 'word' ? token.text.toUpperCase() : undefined;
  if (keyword === 'LIKE') return { op: 'LIKE', next: pos + 1 };
  if (keyword === 'NOT') {
    const like = tokens[pos + 1];
    if (like?.type === 'word' && like.text.toUpperCase() === 'LIKE') return { op: 'NOT LIKE', next: pos + 2 };
    throw queryError(like?.column ?? end, `expected LIKE after NOT; received ${like === undefined ? 'the end of the query' : show(like)}`);
  }
  throw queryError(
    token?.column ?? end,
    `expected an operator (=, !=, >, >=, <, <=, LIKE, NOT LIKE) after ${show(subject)}; received ${token === undefined ? 'the end of the query' : show(token)}`,
  );
}

function conditionOf(field: (typeof SUBJECTS)[string] | 'attribute', subject: Token, op: Operator, value: Token): SpanCondition {
  switch (field) {
    case 'name':
    case 'service':
      return { field, op: textOperator(field, op, subject), value: quoted(field, value) };
    case 'kind':
      return { field, op: equality(field, op, subject), value: named<SpanKind>(field, SPAN_KINDS, value) };
    case 'status':
      return { field, op: equality(field, op, subject), value: named<SpanStatusCode>(field, STATUS_CODES, value) };
    case 'duration':
      if (op === 'LIKE' || op === 'NOT LIKE') throw queryError(subject.column, `duration compares with =, !=, >, >=, < or <=, not ${op}`);
      if (value.type !== 'word')
        throw queryError(value.column, `duration takes an unquoted duration like 5m or 300ms; received ${show(value)}`);
      return { field, op, valueUs: parseDuration(value.text, value.column) };
    case 'trace':
      if (op !== '=') throw queryError(subject.column, `trace compares only with =, not ${op}`);
      if (!TRACE_ID.test(value.text)) throw queryError(value.column, `trace takes a trace id of 32 hex digits; received ${show(value)}`);
      return { field, op, value: value.text.toLowerCase() };
    case 'attribute':
      return { field, key: subject.text, op, value: attributeValue(subject, op, value) };
  }
}

function textOperator(field: string, op: Operator, subject: Token): TextComparison {
  if (op === '=' || op === '!=' || op === 'LIKE' || op === 'NOT LIKE') return op;
  throw queryError(subject.column, `${field} compares with =, !=, LIKE or NOT LIKE, not ${op}`);
}

function equality(field: string, op: Operator, subject: Token): '=' | '!=' {
  if (op === '=' || op === '!=') return op;
  throw queryError(subject.column, `${field} compares only with = or !=, not ${op}`);
}

function quoted(field: string, value: Token): string {
  if (value.type === 'string') return value.text;
  throw queryError(value.column, `${field} takes a quoted string ("process %"); received ${show(value)}`);
}

/** A kind or status by name, in any case, quoted or not. */
function named<T extends string>(field: string, names: readonly T[], value: Token): T {
  const name = names.find((candidate) => candidate === value.text.toLowerCase());
  if (name !== undefined && value.type !== 'op') return name;
  throw queryError(value.column, `${field} is one of ${names.map((n) => n.toUpperCase()).join(', ')}; received ${show(value)}`);
}

function attributeValue(subject: Token, op: Operator, value: Token): string | number | boolean {
  let parsed: string | number | boolean;
  if (value.type === 'string') parsed = value.text;
  else if (value.type === 'word' && NUMBER.test(value.text) && Number.isFinite(Number(value.text))) parsed = Number(value.text);
  else if (value.type === 'word' && /^(true|false)$/i.test(value.text)) parsed = value.text.toLowerCase() === 'true';
  else {
    throw queryError(
      value.column,
      `${show(subject)} takes a quoted string, a number, true or false; received ${show(value)}${value.type === 'word' ? ` (for text, write "${value.text}")` : ''}`,
    );
  }
  if ((op === 'LIKE' || op === 'NOT LIKE') && typeof parsed !== 'string') {
    throw queryError(value.column, `${op} takes a quoted pattern ("process %"); received ${show(value)}`);
  }
  if (typeof parsed === 'boolean' && op !== '=' && op !== '!=') {
    throw queryError(value.column, `a boolean compares only with = or !=, not ${op}`);
  }
  return parsed;
}

/** A token as the messages quote it. */
function show(token: Token): string {
  return token.type === 'string' ? JSON.stringify(token.text) : token.text;
}
