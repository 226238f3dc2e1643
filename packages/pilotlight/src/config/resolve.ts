import { ValidationError } from '../errors.ts';
import { describe, validateInteger } from '../validation/validate.ts';
import type { RetryOptions } from '../types.ts';
import { DEFAULTS } from './defaults.ts';

/** How long finished jobs are kept, in ms (`null`: forever). */
export interface RetentionOptions {
  /** @default 86_400_000 (one day) */
  readonly succeeded?: number | null;
  /** @default 86_400_000 (one day) */
  readonly deleted?: number | null;
  /** @default null (kept until deleted by hand) */
  readonly failed?: number | null;
}

export type ResolvedRetention = { readonly [K in keyof RetentionOptions]-?: number | null };
export type ResolvedRetry = { readonly attempts: number; readonly backoff: NonNullable<RetryOptions['backoff']> };

export function resolveRetention(options: RetentionOptions = {}, option = 'retention'): ResolvedRetention {
  const pick = (key: keyof RetentionOptions): number | null => {
    const value = options[key] === undefined ? DEFAULTS.retention[key] : options[key];
    return value === null ? null : validateInteger(value, `${option}.${key}`, 0);
  };
  return { succeeded: pick('succeeded'), deleted: pick('deleted'), failed: pick('failed') };
}

/** Checks retry options where they are given (enqueue, defineJob, worker), so bad ones never reach a store. */
export function validateRetry(retry: RetryOptions | undefined, option: string): RetryOptions {
  if (retry === undefined) return {};
  if (typeof retry !== 'object' || retry === null) throw new ValidationError(`${option} must be an object; received ${describe(retry)}`);
  if (retry.attempts !== undefined) validateInteger(retry.attempts, `${option}.attempts`, 1, 1000);
  const backoff = retry.backoff;
  if (backoff !== undefined && backoff !== 'hangfire') {
    const delays = typeof backoff === 'number' ? [backoff] : backoff;
    if (!Array.isArray(delays) || delays.length === 0) {
      throw new ValidationError(
        `${option}.backoff must be 'hangfire', a delay in ms or a non-empty array of delays; received ${describe(backoff)}`,
      );
    }
    delays.forEach((delay, i) => validateInteger(delay, `${option}.backoff${typeof backoff === 'number' ? '' : `[${i}]`}`, 0));
  }
  return retry;
}

/** A job's stored retry options over the worker's defaults. */
export function resolveRetry(job: RetryOptions, defaults: ResolvedRetry): ResolvedRetry {
  return { attempts: job.attempts ?? defaults.attempts, backoff: job.backoff ?? defaults.backoff };
}
