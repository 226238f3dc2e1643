import { ValidationError } from '../errors.ts';
import { describe } from '../validation/validate.ts';

/**
 * The longest timeout accepted, in ms: `setTimeout()`'s limit (about 24.8 days). A longer one would
 * fire at once, and no attempt is meant to run that long.
 */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Checks a `timeout` option where it is given (enqueue…, `defineJob`, a job class's `jobTimeout`,
 * `createWorker`): an integer number of ms from 1 to `MAX_TIMEOUT_MS`; `null` for no timeout;
 * `undefined` when not given.
 */
export function validateTimeout(value: unknown, option: string): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw new ValidationError(
      `${option} must be an integer number of ms between 1 and ${MAX_TIMEOUT_MS} (about 24.8 days), or null for no timeout; received ${describe(value)}`,
    );
  }
  return value;
}

/** A timeout read back from a store: a valid one, else `undefined` (a bad row falls back to the next level rather than breaking the job). */
export function storedTimeout(value: unknown): number | null | undefined {
  if (value === null) return null;
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_TIMEOUT_MS ? value : undefined;
}
