import { ValidationError } from '../errors.ts';
import { LIMITS } from './limits.ts';

/** Queue names are short identifiers so they can be indexed, listed and used as telemetry attributes. */
export function validateQueueName(queue: unknown, option = 'queue'): string {
  if (typeof queue !== 'string' || queue.length === 0 || queue.length > LIMITS.maxQueueNameLength || !/^[\w.:-]+$/.test(queue)) {
    throw new ValidationError(
      `${option} must be a non-empty string of at most ${LIMITS.maxQueueNameLength} letters, digits, '_', '-', '.' or ':'; received ${describe(queue)}`,
    );
  }
  return queue;
}

export function validateInteger(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new ValidationError(`${option} must be an integer ${range}; received ${describe(value)}`);
  }
  return value;
}

export function validateNonEmptyString(value: unknown, option: string, maxLength = 200): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new ValidationError(`${option} must be a non-empty string of at most ${maxLength} characters; received ${describe(value)}`);
  }
  return validateStorableText(value, option);
}

/**
 * Text a store keeps as text must be valid Unicode without NUL: PostgreSQL refuses a NUL character
 * (and a `\u0000` escape in JSONB) with a database error, and the `pg` driver turns a lone surrogate
 * into U+FFFD without a word, while SQLite keeps both. Refusing them here makes every store agree.
 */
export function validateStorableText(value: string, option: string): string {
  const nul = value.indexOf('\u0000');
  if (nul !== -1) {
    throw new ValidationError(`${option} contains a NUL character (\\u0000) at index ${nul}, which PostgreSQL cannot store: remove it`);
  }
  const surrogate = value.search(/\p{Cs}/u); // with the u flag, only a lone surrogate is a code point of its own
  if (surrogate !== -1) {
    throw new ValidationError(
      `${option} contains a lone surrogate (half of a UTF-16 pair, not valid Unicode) at index ${surrogate}, which PostgreSQL cannot keep: ` +
        'remove it, or fix the code that split the string',
    );
  }
  return value;
}

/** A value as an error message shows it: short, typed, never the whole payload. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `a function`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()})`;
  if (Array.isArray(value)) return `an array`;
  return typeof value === 'symbol' ? 'a symbol' : 'an object';
}
