import { JobStates, type StateName, type StateRecord } from '../types.ts';
import { describe } from '../validation/validate.ts';

/**
 * Reading rows a store cannot trust: written by an older or broken version, edited by hand, or
 * corrupted. Such a row must never make a read throw, nor a claim fail for the jobs queued behind
 * it: each column is checked and decoded on its own, an unreadable one gets a safe value, and
 * the problems are named (column, what is wrong) so that the job can be failed with that reason.
 */

/** How every reason about an unreadable row starts, in `stateReason` and in history. */
export const UNREADABLE_ROW = 'Unreadable row';

const KNOWN_STATES: ReadonlySet<string> = new Set(Object.values(JobStates));

export function isStateName(value: unknown): value is StateName {
  return typeof value === 'string' && KNOWN_STATES.has(value);
}

/** Collects the problems of one row: `column X …` each, joined into one reason. */
export class RowProblems {
  readonly #problems: string[] = [];

  add(column: string, problem: string): void {
    this.#problems.push(`column ${column} ${problem}`);
  }

  /** `Unreadable row: column metadata is not valid JSON (…); column retry …`, or undefined for a sound row. */
  reason(): string | undefined {
    return this.#problems.length === 0 ? undefined : `${UNREADABLE_ROW}: ${this.#problems.join('; ')}`;
  }

  state(value: unknown): StateName | undefined {
    if (isStateName(value)) return value;
    this.add('state', `holds ${describe(value)}, not one of the ${KNOWN_STATES.size} states (${[...KNOWN_STATES].join(', ')})`);
    return undefined;
  }

  /** A time in epoch milliseconds; `fallback` when it is not one (SQLite keeps any value in any column). */
  time(column: string, value: unknown, fallback: Date): Date {
    if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 8.64e15) return new Date(value);
    this.add(column, `is not a time in epoch milliseconds (${describe(value)})`);
    return fallback;
  }

  integer(column: string, value: unknown): number {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    this.add(column, `is not an integer (${describe(value)})`);
    return 0;
  }

  /** A JSON column decoded by `json`, then checked by `shape` (which names what it expected); undefined when unreadable. */
  json<T>(column: string, value: unknown, json: (value: any) => any, shape: (decoded: unknown) => string | undefined): T | undefined {
    let decoded: unknown;
    try {
      decoded = json(value);
    } catch (error) {
      this.add(column, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
      return undefined;
    }
    const expected = shape(decoded);
    if (expected === undefined) return decoded as T;
    this.add(column, `is not ${expected} (${describeJson(decoded)})`);
    return undefined;
  }
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object of another shape';
  return `a ${typeof value}: ${describe(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function metadataShape(value: unknown): string | undefined {
  const expected = 'a JSON object of strings';
  if (!isPlainObject(value)) return expected;
  return Object.values(value).every((v) => typeof v === 'string') ? undefined : expected;
}

export function retryShape(value: unknown): string | undefined {
  const expected = 'retry options ({"attempts": integer >= 1, "backoff": "hangfire", ms or [ms, …]})';
  if (!isPlainObject(value)) return expected;
  const { attempts, backoff } = value;
  if (attempts !== undefined && !(Number.isSafeInteger(attempts) && (attempts as number) >= 1)) return expected;
  const delay = (d: unknown) => typeof d === 'number' && Number.isFinite(d) && d >= 0;
  if (backoff !== undefined && backoff !== 'hangfire' && !delay(backoff) && !(Array.isArray(backoff) && backoff.every(delay))) {
    return expected;
  }
  return undefined;
}

export function progressShape(value: unknown): string | undefined {
  const expected = 'job progress ({"value": number, "message"?: string})';
  if (!isPlainObject(value) || typeof value.value !== 'number') return expected;
  return value.message === undefined || typeof value.message === 'string' ? undefined : expected;
}

/**
 * A job's history as `historyEntry()` writes it (comma-separated JSON objects), read entry by entry
 * so that garbage in one place loses only that place: the entries that can be read, in order, and
 * where something could not be, one entry (in the job's `current` state) saying what was skipped.
 */
export function readHistory(history: unknown, current?: { name: StateName; at: Date }): StateRecord[] {
  if (typeof history !== 'string') return [unreadableEntry(`it is ${describe(history)}, not text`, [], current)];
  try {
    // The fast path: every sound history.
    const entries = JSON.parse(`[${history}]`) as unknown[];
    if (entries.every(isEntry)) return entries.map(toEntry);
  } catch {
    // Read it piece by piece below.
  }
  const records: StateRecord[] = [];
  let skipped = 0;
  let markAt = -1;
  let i = 0;
  while (i < history.length) {
    const end = entryEnd(history, i);
    const entry = end === undefined ? undefined : parseEntry(history.slice(i, end));
    if (entry && end !== undefined && (end === history.length || history[end] === ',')) {
      records.push(toEntry(entry));
      i = end + 1;
      continue;
    }
    // Every entry historyEntry() writes starts with {"name": (a quote inside a JSON string is
    // escaped), so the next one is where reading can start again.
    const next = history.indexOf(',{"name":', i);
    const resume = next === -1 ? history.length : next + 1;
    if (markAt === -1) markAt = records.length;
    skipped += resume - i;
    i = resume;
  }
  if (skipped === 0) return records;
  const marker = unreadableEntry(`${skipped} of its ${history.length} characters are not history entries`, records, current);
  records.splice(markAt, 0, marker);
  return records;
}

function unreadableEntry(what: string, before: readonly StateRecord[], current?: { name: StateName; at: Date }): StateRecord {
  const previous = before.at(-1);
  return {
    name: current?.name ?? previous?.name ?? JobStates.Failed,
    at: current?.at ?? previous?.at ?? new Date(0),
    reason: `Unreadable history: ${what}; the entries that could be read are kept`,
  };
}

/** The index just past the JSON object starting at `start`, or undefined when none starts there or it never closes. */
function entryEnd(text: string, start: number): number | undefined {
  if (text[start] !== '{') return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

function parseEntry(text: string): Record<string, unknown> | undefined {
  try {
    const entry: unknown = JSON.parse(text);
    return isEntry(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

function isEntry(entry: unknown): entry is Record<string, unknown> {
  if (!isPlainObject(entry) || !isStateName(entry.name) || !isTime(entry.at)) return false;
  return entry.runAt === undefined || isTime(entry.runAt);
}

function isTime(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 8.64e15;
}

function toEntry(entry: Record<string, any>): StateRecord {
  return {
    ...entry,
    name: entry.name as StateName,
    at: new Date(entry.at),
    ...(entry.runAt !== undefined && { runAt: new Date(entry.runAt) }),
  };
}
