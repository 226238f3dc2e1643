/**
 * What differs between the SQL of the two trace stores, for the queries they share
 * (`compile-conditions.ts`, `find-spans.ts`, `get-trace.ts`). Both stores name their tables and
 * columns alike: spans `s` (`trace_spans`), resources `r` (`trace_resources`).
 */
export interface SqlDialect {
  /** The spans table, qualified as the store needs (`"pilotlight".trace_spans`). */
  readonly spans: string;
  /** The resources table, qualified likewise. */
  readonly resources: string;
  /** The placeholder of parameter number `n` (from 1); it may appear more than once in a statement. */
  placeholder(n: number): string;
  /**
   * `text` (a text expression, possibly NULL) matches `pattern` (a placeholder bound to
   * `likePattern(value)`): SQL LIKE's `%` and `_`, case-sensitive, no escape character.
   */
  like(text: string, pattern: string): string;
  /** The value to bind for the LIKE pattern `pattern` in `like()`. */
  likePattern(pattern: string): string;
  /** True where `condition` is false or NULL (a negated condition matches spans without the attribute). */
  negate(condition: string): string;
  /** The value to bind for an attribute key in `attribute()`. */
  attributeKey(key: string): string;
  /**
   * The attribute named by the placeholder `key` as a JSON value: the span's, or the resource's when
   * the span has no attribute of that key; NULL when neither has.
   */
  attribute(key: string): string;
  /** A JSON value of `attribute()` as text when it is a string; NULL otherwise. */
  textOf(json: string): string;
  /** A JSON value of `attribute()` as a number when it is one; NULL otherwise. */
  numberOf(json: string): string;
  /** True where a JSON value of `attribute()` is the boolean `value`. */
  isBoolean(json: string, value: boolean): string;
  /** A JSON column as read (SQLite: text to parse; PostgreSQL: parsed by the driver). */
  readJson(value: unknown): unknown;
}

/** The parameters of one statement, numbered in the order they are added. */
export class SqlParams {
  readonly values: unknown[] = [];
  readonly #dialect: SqlDialect;

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
  }

  /** Adds `value`; returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return this.#dialect.placeholder(this.values.length);
  }
}
