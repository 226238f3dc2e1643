/**
 * Checks of the samplers' options. Like the rest of this package (which depends on no Pilotlight
 * package), a bad option throws a `TypeError` (wrong type) or a `RangeError` (out of range) whose
 * message names the option, the value received and what is accepted.
 */

/** A value as a message shows it: strings quoted and cut at 60 characters, objects by their kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}

/** `value` if it is a plain options object (or undefined: no options). */
export function checkObject<T extends object>(value: T | undefined, option: string): T | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new TypeError(`${option} must be an object; received ${describeValue(value)}`);
  }
  return value;
}

/** A share of traces or attempts to keep: a number from 0 (none) to 1 (all). */
export function checkRatio(value: unknown, option: string): number {
  if (typeof value !== 'number') throw new TypeError(`${option} must be a number from 0 to 1; received ${describeValue(value)}`);
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${option} must be a number from 0 to 1; received ${describeValue(value)}`);
  return value;
}

/** A number ≥ 0 (a duration in ms). */
export function checkNonNegative(value: unknown, option: string): number {
  if (typeof value !== 'number') throw new TypeError(`${option} must be a finite number >= 0; received ${describeValue(value)}`);
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`${option} must be a finite number >= 0; received ${describeValue(value)}`);
  return value;
}

/** An integer ≥ 1 (a count). */
export function checkPositiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number') throw new TypeError(`${option} must be an integer >= 1; received ${describeValue(value)}`);
  if (!(Number.isSafeInteger(value) && value >= 1))
    throw new RangeError(`${option} must be an integer >= 1; received ${describeValue(value)}`);
  return value;
}

/** One of `choices`. */
export function checkChoice<T extends string>(value: unknown, choices: readonly T[], option: string): T {
  if (!choices.includes(value as T)) {
    throw new RangeError(`${option} must be one of ${choices.map((choice) => `'${choice}'`).join(', ')}; received ${describeValue(value)}`);
  }
  return value as T;
}
