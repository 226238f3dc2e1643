import { DEFAULTS } from '../config/defaults.ts';
import { validateRetry } from '../config/resolve.ts';
import { validateTimeout } from '../config/timeout.ts';
import { ValidationError } from '../errors.ts';
import { isJobDefinition, jobClassType, type FlowControlOptions, type JobClass, type JobOptions } from '../jobs/define-job.ts';
import { resolveFlowControl, type FlowControl } from '../jobs/flow-control.ts';
import type { JobCall, Parenting, StoredRetryOptions } from '../types.ts';
import { validateParenting } from '../telemetry/tracing-options.ts';
import { serializeArgs } from '../validation/args.ts';
import { describe, validateInteger, validateNonEmptyString, validateQueueName } from '../validation/validate.ts';

/** A job call reduced to what is stored: type, method, JSON arguments and resolved options. */
export interface Invocation extends JobCall {
  /** The job's own trace parenting, when it has one (stored in its metadata). */
  readonly parenting: Parenting | undefined;
  /** The call's flow control, or its definition's (key functions called with the arguments). */
  readonly flow: FlowControl;
}

/**
 * Reads the two call shapes of the client: `(definition, args, options?)` for function jobs and
 * `(JobClass, 'method', [args], options?)` for class-based jobs. Returns the invocation and the
 * options argument, validated; throws `ValidationError` naming the API for anything else.
 */
export function readInvocation<O extends JobOptions & FlowControlOptions>(
  api: string,
  job: unknown,
  rest: readonly unknown[],
): { invocation: Invocation; options: O } {
  let type: string;
  let method: string;
  let args: readonly unknown[];
  let options: O | undefined;
  let defaults: JobOptions = {};
  if (isJobDefinition(job)) {
    type = job.type;
    method = '';
    args = rest[0] === undefined ? [] : [rest[0]];
    options = rest[1] as O | undefined;
    defaults = job.options;
  } else if (typeof job === 'function') {
    type = jobClassType(job as JobClass);
    method = rest[0] as string;
    if (typeof method !== 'string' || typeof (job as { prototype?: Record<string, unknown> }).prototype?.[method] !== 'function') {
      throw new ValidationError(`${api}() method must name a method of ${type}; received ${describe(method)}`);
    }
    if (!Array.isArray(rest[1]))
      throw new ValidationError(`${api}() arguments of ${type}.${method} must be an array; received ${describe(rest[1])}`);
    args = rest[1];
    options = rest[2] as O | undefined;
  } else {
    throw new ValidationError(`${api}() expects a job definition (defineJob) or a job class; received ${describe(job)}`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ValidationError(`${api}() options must be an object; received ${describe(options)}`);
  }
  options ??= {} as O;
  // A class's jobType or a definition's name, and the method, are stored as text like the rest.
  type = validateNonEmptyString(type, `${api}() job type`);
  method = method === '' ? method : validateNonEmptyString(method, `${api}() method`);
  return {
    invocation: {
      type,
      method,
      argsJson: serializeArgs(args, api),
      queue: validateQueueName(options.queue ?? defaults.queue ?? DEFAULTS.queue, `${api}() options.queue`),
      priority: validateInteger(
        options.priority ?? defaults.priority ?? DEFAULTS.priority,
        `${api}() options.priority`,
        -1_000_000,
        1_000_000,
      ),
      retry: withTimeout(
        { ...validateRetry(defaults.retry, `${type} retry`), ...validateRetry(options.retry, `${api}() options.retry`) },
        validateTimeout(options.timeout, `${api}() options.timeout`),
      ),
      parenting: optionalParenting(options.parenting ?? defaults.parenting, `${api}() options.parenting`),
      flow: resolveFlowControl(job as JobClass, type, method, args, options, api),
    },
    options,
  };
}

/**
 * The stored retry options with the call's own `timeout`, if it has one: the definition's and the
 * worker's are resolved by the worker when the job runs (so that a redeployed definition applies to
 * jobs already waiting). A `timeout` slipped into `retry` is not one: the option is `timeout`.
 */
function withTimeout(retry: StoredRetryOptions, timeout: number | null | undefined): StoredRetryOptions {
  const { timeout: _notAnOption, ...policy } = retry;
  return timeout === undefined ? policy : { ...policy, timeout };
}

function optionalParenting(value: unknown, option: string): Parenting | undefined {
  return value === undefined ? undefined : validateParenting(value, option);
}
