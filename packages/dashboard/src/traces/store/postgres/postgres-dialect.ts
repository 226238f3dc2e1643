import type { SqlDialect } from '../dialect.ts';

/**
 * PostgreSQL's side of the shared trace queries, for the tables of schema `s` (quoted). Text
 * columns are in the "C" collation (see the migration), so `<` and `>` order text by code point as
 * SQLite does; attributes are `jsonb`.
 */
export function postgresDialect(s: string): SqlDialect {
  return {
    spans: `${s}.trace_spans`,
    resources: `${s}.trace_resources`,
    placeholder: (n) => `$${n}`,
    // ESCAPE '': no escape character (the default would be the backslash), as on SQLite.
    like: (text, pattern) => `${text} LIKE ${pattern} ESCAPE ''`,
    likePattern: (pattern) => pattern,
    negate: (condition) => `(${condition}) IS NOT TRUE`,
    attributeKey: (key) => key,
    attribute: (key) => `coalesce(s.attributes -> ${key}::text, r.attributes -> ${key}::text)`,
    textOf: (json) => `(CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${json} #>> '{}' END) COLLATE "C"`,
    numberOf: (json) => `CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json})::float8 END`,
    isBoolean: (json, value) => `${json} = '${value}'::jsonb`,
    // The driver parses json and jsonb columns.
    readJson: (value) => value,
  };
}
