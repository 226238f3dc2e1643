import { ValidationError } from '../errors.ts';
import { LIMITS } from './limits.ts';

/** `JSON.stringify(args)`, after proving that nothing in `args` would be lost or changed on the way. */
export function serializeArgs(args: readonly unknown[], api: string): string {
  const problem = findUnserializable(args, 'args', new Set());
  if (problem) throw new ValidationError(`${api}() payload must be JSON-serializable: found ${problem}`);
  const json = JSON.stringify(args);
  if (json.length > LIMITS.maxArgsBytes && Buffer.byteLength(json) > LIMITS.maxArgsBytes) {
    throw new ValidationError(
      `${api}() payload is ${Buffer.byteLength(json)} bytes once serialized; the limit is ${LIMITS.maxArgsBytes}. ` +
        'Store large data elsewhere and pass its key.',
    );
  }
  return json;
}

function findUnserializable(value: unknown, path: string, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${value} at ${path} (JSON has no such number)`;
    case 'bigint':
      return `a BigInt at ${path} (pass it as a string)`;
    case 'function':
      return `a function at ${path}`;
    case 'symbol':
      return `a symbol at ${path}`;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return undefined; // Date and friends
  if (ancestors.has(object)) return `a circular reference at ${path}`;
  const proto = Object.getPrototypeOf(object);
  if (!Array.isArray(object) && proto !== Object.prototype && proto !== null) {
    const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    return `a ${kind} at ${path} (only plain objects, arrays and primitives survive JSON)`;
  }
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const found = findUnserializable(object[i], `${path}[${i}]`, ancestors);
        if (found) return found;
      }
    } else {
      for (const key of Object.keys(object)) {
        const found = findUnserializable((object as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
        if (found) return found;
      }
    }
  } finally {
    ancestors.delete(object);
  }
  return undefined;
}

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
