import { ValidationError } from '../errors.ts';
import type { ConcurrencyLimit, RateLimit } from '../types.ts';
import { validateConcurrency, validateDebounce, validateRateLimit, type Debounce } from '../validation/flow-control.ts';
import { describe } from '../validation/validate.ts';
import type { FlowControlOptions, JobClass, JobDefinition } from './define-job.ts';

/** A job's flow control, resolved when it is created: what the store keeps with it. */
export interface FlowControl {
  readonly concurrency?: ConcurrencyLimit;
  readonly rateLimit?: RateLimit;
  readonly debounce?: Debounce;
}

type Key = string | ((...args: any[]) => string);
interface Defaults {
  readonly concurrency?: { readonly key: Key; readonly limit: number } | undefined;
  readonly rateLimit?: { readonly key?: Key; readonly max: number; readonly per: number } | undefined;
  readonly debounce?: { readonly key: Key; readonly delay: number } | undefined;
}
const OPTIONS = ['concurrency', 'rateLimit', 'debounce'] as const;
/** Where a job class keeps each default, as `jobTimeout` for `timeout`. */
const CLASS_STATICS = { concurrency: 'jobConcurrency', rateLimit: 'jobRateLimit', debounce: 'jobDebounce' } as const;

/**
 * Checks a definition's flow-control defaults as far as they can be checked before a job exists:
 * everything but a key given as a function (its result is checked at each creation).
 */
export function validateFlowDefaults(defaults: Defaults, option: string): void {
  for (const name of OPTIONS) {
    const value = defaults[name];
    if (value === undefined) continue;
    const withKey = typeof value === 'object' && value !== null && typeof value.key === 'function' ? { ...value, key: 'key' } : value;
    validate(name, withKey, `${option}.${name}`, 'type');
  }
}

/**
 * The flow control of a job being created from `job` (a definition or a class and its `method`) with
 * `args` (as stored: the definition's one argument in an array, a method's arguments): the call's own
 * options, else the definition's defaults (`null` in the call drops a default), key functions called
 * with the arguments, everything validated.
 */
export function resolveFlowControl(
  job: JobDefinition<any, any> | JobClass,
  type: string,
  method: string,
  args: readonly unknown[],
  own: FlowControlOptions,
  api: string,
): FlowControl {
  const isClass = typeof job === 'function';
  let resolved: FlowControl | undefined;
  for (const name of OPTIONS) {
    const given = own[name];
    let value: unknown;
    let option: string;
    if (given !== undefined) {
      if (given === null) continue;
      value = given;
      option = `${api}() options.${name}`;
    } else {
      const defaults: Defaults = isClass ? {} : (job as JobDefinition).options;
      const fallback = isClass ? (job as unknown as Record<string, Defaults[typeof name]>)[CLASS_STATICS[name]] : defaults[name];
      if (fallback === undefined) continue;
      option = isClass ? `${type}.${CLASS_STATICS[name]}` : `defineJob('${type}') options.${name}`;
      value = withKey(fallback, option, (key) => (isClass ? key(args, method) : key(args[0])));
    }
    resolved = { ...resolved, [name]: validate(name, value, option, type) };
  }
  return resolved ?? NONE;
}

const NONE: FlowControl = Object.freeze({});

/** The default with its key function called (a key function that throws fails the creation, naming it). */
function withKey(value: Defaults[keyof Defaults], option: string, call: (key: (...args: any[]) => string) => unknown): unknown {
  if (typeof value !== 'object' || value === null || typeof value.key !== 'function') return value;
  let key: unknown;
  try {
    key = call(value.key);
  } catch (error) {
    throw new ValidationError(`${option}.key threw: ${(error as Error)?.message ?? describe(error)}; fix the key function`, {
      cause: error,
    });
  }
  return { ...value, key };
}

function validate(name: (typeof OPTIONS)[number], value: unknown, option: string, type: string) {
  if (name === 'concurrency') return validateConcurrency(value, option);
  if (name === 'rateLimit') return validateRateLimit(value, option, type);
  return validateDebounce(value, option);
}
