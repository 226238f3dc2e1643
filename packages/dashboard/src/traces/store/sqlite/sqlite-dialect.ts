import type { SQLInputValue } from 'node:sqlite';
import type { SqlDialect } from '../dialect.ts';

/**
 * SQLite's side of the shared trace queries. LIKE is GLOB here: SQLite's LIKE ignores ASCII case
 * (and `case_sensitive_like`, which would change that, is deprecated), GLOB is case-sensitive, and a
 * LIKE pattern translates into one exactly. Attributes are JSON text, read with `->` (which keeps a
 * JSON `null` apart from a missing key) and `json_type()`.
 */
export const SQLITE_DIALECT: SqlDialect = {
  spans: 'trace_spans',
  resources: 'trace_resources',
  // Named, bound by name (`namedParameters()`): the attribute key's placeholder appears twice (span,
  // then resource), and Node.js 22's node:sqlite cannot bind numbered ones (`?1`) by position.
  placeholder: (n) => `:p${n}`,
  like: (text, pattern) => `${text} GLOB ${pattern}`,
  likePattern: likeToGlob,
  negate: (condition) => `NOT coalesce(${condition}, 0)`,
  // A JSON path of one quoted label, so that a key with dots (`task.duration_ms`) is one key.
  attributeKey: (key) => `$."${key.replace(/["\\]/g, '\\$&')}"`,
  attribute: (key) => `coalesce(s.attributes -> ${key}, r.attributes -> ${key})`,
  textOf: (json) => `CASE WHEN json_type(${json}) = 'text' THEN ${json} ->> '$' END`,
  numberOf: (json) => `CASE WHEN json_type(${json}) IN ('integer', 'real') THEN ${json} ->> '$' END`,
  isBoolean: (json, value) => `json_type(${json}) = '${value}'`,
  readJson: (value) => JSON.parse(value as string),
};

/** `%` → `*`, `_` → `?`, and GLOB's own wildcards as themselves (`*` → `[*]`, `?` → `[?]`, `[` → `[[]`). */
export function likeToGlob(pattern: string): string {
  return pattern.replace(/[%_*?[]/g, (char) => (char === '%' ? '*' : char === '_' ? '?' : `[${char}]`));
}

/** The values of a statement built with `SqlParams` on this dialect, by the names of its placeholders (`:p1` is `p1`). */
export function namedParameters(values: readonly unknown[]): Record<string, SQLInputValue> {
  const named: Record<string, SQLInputValue> = {};
  values.forEach((value, i) => (named[`p${i + 1}`] = value as SQLInputValue));
  return named;
}
