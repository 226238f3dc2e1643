import { types } from 'node:util';
import type { ErrorDetails } from '../types.ts';

/**
 * Limits of what is stored about a thrown value, in UTF-16 characters (at most 3 bytes each in
 * UTF-8): every failed attempt adds an entry to the job's history, and the tracing filter puts the
 * message on the span, so a 50 MB message must not become a 50 MB row. Longer texts keep their
 * beginning and end with a marker saying how much was cut.
 */
export const ERROR_DETAIL_LIMITS = {
  /** The error's class name (or `typeof`). */
  type: 256,
  /** The message (8 KiB of characters). */
  message: 8 * 1024,
  /** The stack (16 KiB of characters). */
  stack: 16 * 1024,
} as const;

/**
 * What is stored about a thrown value: its type, message and stack, whatever was thrown. Never
 * throws: a handler may throw an Error whose `message` or `stack` getter throws, a Proxy whose
 * every trap throws, an object whose `toString` and `toJSON` throw. Recording that failure must
 * not fail, or the attempt would have no outcome (the job would stay Processing and run again
 * without counting). What cannot be read is replaced by a placeholder saying why.
 */
export function toErrorDetails(thrown: unknown): ErrorDetails {
  try {
    return isError(thrown) ? errorDetails(thrown) : valueDetails(thrown);
  } catch (error) {
    // Every read below is guarded; this is for what no guard foresaw.
    return { type: 'unknown', message: `<unreadable thrown value: ${reasonOf(error)}>` };
  }
}

function errorDetails(error: Error): ErrorDetails {
  const name = read(error, 'name');
  const type = name.ok && typeof name.value === 'string' && name.value ? name.value : constructorName(error);
  const message = read(error, 'message');
  const stack = read(error, 'stack');
  const details: { type: string; message: string; stack?: string } = {
    type: cut(type, ERROR_DETAIL_LIMITS.type),
    message: cut(
      message.ok ? textOf(message.value, 'message') : `<unreadable message: ${reasonOf(message.error)}>`,
      ERROR_DETAIL_LIMITS.message,
    ),
  };
  if (stack.ok && typeof stack.value === 'string' && stack.value) details.stack = cut(stack.value, ERROR_DETAIL_LIMITS.stack);
  return details;
}

function valueDetails(thrown: unknown): ErrorDetails {
  const type = thrown === null ? 'null' : typeof thrown;
  const message = textOf(thrown, 'value');
  return { type, message: cut(`A non-Error value was thrown: ${message}`, ERROR_DETAIL_LIMITS.message) };
}

/** `instanceof Error`, false where even asking throws (a Proxy whose `getPrototypeOf` trap throws). */
function isError(value: unknown): value is Error {
  if (types.isNativeError(value)) return true;
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

function constructorName(error: Error): string {
  const constructor = read(error, 'constructor');
  if (!constructor.ok) return 'Error';
  const name = read(constructor.value, 'name');
  return name.ok && typeof name.value === 'string' && name.value ? name.value : 'Error';
}

type Read = { ok: true; value: unknown } | { ok: false; error: unknown };

/** `value[key]`, or why it could not be read. */
function read(value: unknown, key: string): Read {
  try {
    return { ok: true, value: (value as Record<string, unknown>)[key] };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A readable text for `value`: itself if a string, else its JSON, else `String()`, else a placeholder. */
function textOf(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // cyclic, a BigInt, a throwing toJSON: try String()
  }
  try {
    return String(value);
  } catch (error) {
    return `<unreadable ${what}: ${reasonOf(error)}>`;
  }
}

/** Why a read failed, from the error it threw, itself possibly hostile; short. */
function reasonOf(error: unknown): string {
  let reason = 'unknown reason';
  try {
    if (typeof error === 'string') reason = error;
    else if (typeof error === 'object' && error !== null) {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string') reason = message;
    } else if (error !== null && typeof error !== 'object') reason = String(error);
  } catch {
    // keep 'unknown reason'
  }
  return cut(reason, 200);
}

/** Room for the marker of `cut()`: `… [` + up to 16 digits + ` characters cut] …`. */
const MARKER_ROOM = 40;

/** `text` if at most `max` characters, else its beginning and end around a marker saying how much was cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.max(0, max - MARKER_ROOM);
  const head = wholeChars(text.slice(0, Math.ceil(keep * 0.75)), 'end');
  const tail = wholeChars(text.slice(text.length - Math.floor(keep * 0.25)), 'start');
  return `${head}… [${text.length - head.length - tail.length} characters cut] …${tail}`;
}

/** Drops a surrogate half left at the cut end of `text`, so the stored text stays valid UTF-16. */
function wholeChars(text: string, end: 'start' | 'end'): string {
  if (end === 'end') {
    const last = text.charCodeAt(text.length - 1);
    return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
  }
  const first = text.charCodeAt(0);
  return first >= 0xdc00 && first <= 0xdfff ? text.slice(1) : text;
}
