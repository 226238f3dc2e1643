import { ValidationError } from '../errors.ts';
import type { ConcurrencyLimit, RateLimit } from '../types.ts';
import { LIMITS } from './limits.ts';
import { describe, validateStorableText } from './validate.ts';

/**
 * Checks of the flow-control options (`concurrency`, `rateLimit`, `debounce` of a job; a queue's
 * concurrency and rate limits). Keys given as functions in a definition are called first: what is
 * checked here is the key they returned.
 */

/** A job's debounce: replace the waiting job with the same key, and start `delay` ms after the last enqueue. */
export interface Debounce {
  readonly key: string;
  /** ms; 0 enqueues at once. */
  readonly delay: number;
}

/** A queue's rate limit: at most `max` of its jobs start per `per` ms. */
export interface QueueRateLimit {
  readonly max: number;
  readonly per: number;
}

/** A key: a non-empty string a store can keep and index, at most `LIMITS.maxFlowKeyLength` characters. */
export function validateFlowKey(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.maxFlowKeyLength) {
    throw new ValidationError(
      `${option} must be a non-empty string of at most ${LIMITS.maxFlowKeyLength} characters (for example \`tenant:\${tenantId}\`); received ${describe(value)}`,
    );
  }
  return validateStorableText(value, option);
}

export function validateConcurrency(value: unknown, option: string): ConcurrencyLimit {
  const given = object(value, option, '{ key, limit }');
  return {
    key: validateFlowKey(given.key, `${option}.key`),
    limit: integer(given.limit, `${option}.limit`, 1, LIMITS.maxConcurrencyLimit, 'jobs with the key running at once'),
  };
}

/** `defaultKey` applies when the option has no `key` (the job's type). */
export function validateRateLimit(value: unknown, option: string, defaultKey: string): RateLimit {
  const given = object(value, option, '{ key?, max, per }');
  const { max, per } = validateQueueRateLimit(given, option);
  return { key: validateFlowKey(given.key ?? defaultKey, `${option}.key`), max, per };
}

export function validateDebounce(value: unknown, option: string): Debounce {
  const given = object(value, option, '{ key, delay }');
  return {
    key: validateFlowKey(given.key, `${option}.key`),
    delay: integer(given.delay, `${option}.delay`, 0, LIMITS.maxScheduleAheadMs, 'ms to wait after the last enqueue (0: at once)'),
  };
}

/** A queue's concurrency limit: an integer from 1 to `LIMITS.maxConcurrencyLimit`, or `null` for none. */
export function validateQueueConcurrencyLimit(value: unknown, option: string): number | null {
  if (value === null) return null;
  return integer(value, option, 1, LIMITS.maxConcurrencyLimit, 'jobs of the queue running at once, or null for no limit');
}

/** `{ max, per }` of a rate limit (a queue's, or a job's less its key). */
export function validateQueueRateLimit(value: unknown, option: string): QueueRateLimit {
  const given = object(value, option, '{ max, per }');
  return {
    max: integer(given.max, `${option}.max`, 1, LIMITS.maxRateLimitMax, 'starts per window'),
    per: integer(given.per, `${option}.per`, 1, LIMITS.maxRateLimitPerMs, 'the window in ms, at most a day (86400000)'),
  };
}

function object(value: unknown, option: string, shape: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${option} must be an object ${shape}; received ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function integer(value: unknown, option: string, min: number, max: number, meaning: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${option} must be an integer from ${min} to ${max} (${meaning}); received ${describe(value)}`);
  }
  return value;
}
