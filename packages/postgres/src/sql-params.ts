import { createHash } from 'node:crypto';
import type pg from 'pg';

/** Collects the parameters of a statement built in pieces: `add(value)` returns its placeholder. */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

const names = new Map<string, string>();

/**
 * A named (prepared) statement: each connection parses and plans it once, then only binds the
 * values. For the hot statements, whose planning costs as much as running them. The name is a hash
 * of the text, so the same text always gets the same name (pg requires it) and different texts
 * (another schema) never share one.
 */
export function prepared(text: string, values: unknown[]): pg.QueryConfig {
  return { name: statementName(text), text, values };
}

/** `prepared()`, each row returned as an array of values in select-list order (no object per row). */
export function preparedArrays(text: string, values: unknown[]): pg.QueryArrayConfig {
  return { name: statementName(text), text, values, rowMode: 'array' };
}

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `pilotlight_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}
