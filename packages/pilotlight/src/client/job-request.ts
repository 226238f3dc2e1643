import { ValidationError } from '../errors.ts';
import type { JobRequest } from '../engine/job-creator.ts';
import type { FlowControl } from '../jobs/flow-control.ts';
import { PARENTING_METADATA_KEY } from '../telemetry/names.ts';
import type { Parenting } from '../types.ts';
import { validateMetadata } from '../validation/metadata.ts';
import { validateNonEmptyString } from '../validation/validate.ts';
import type { Invocation } from './invocation.ts';

/** The options of a call that `jobRequest()` reads. */
interface RequestOptions {
  readonly dedupKey?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Where the job belongs, as the API decides. */
type Placement = Pick<JobRequest, 'parentId' | 'batchId' | 'awaitsBatch'>;

/**
 * The request to create one job from a client call: its invocation, its dedup key, flow control and
 * metadata, and the API's initial state; a debounced job's state comes from its debounce (`enqueue()`
 * and `enqueueMany()` only: every other API decides the due time or the state itself).
 */
export function jobRequest(
  api: string,
  invocation: Invocation,
  options: RequestOptions,
  initialState: () => JobRequest['state'],
  placement: Placement = {},
): JobRequest {
  const { parenting, flow, ...call } = invocation;
  const dedupKey = options.dedupKey === undefined ? undefined : validateNonEmptyString(options.dedupKey, `${api}() options.dedupKey`);
  return {
    ...call,
    ...placement,
    ...(flow.debounce ? debounced(api, flow.debounce, dedupKey) : { state: initialState() }),
    ...(dedupKey !== undefined && { dedupKey }),
    ...(flow.concurrency && { concurrency: flow.concurrency }),
    ...(flow.rateLimit && { rateLimit: flow.rateLimit }),
    ...withMetadata(api, options, parenting),
  };
}

function debounced(
  api: string,
  debounce: NonNullable<FlowControl['debounce']>,
  dedupKey: string | undefined,
): Pick<JobRequest, 'state' | 'debounceKey'> {
  if (api !== 'enqueue' && api !== 'enqueueMany') {
    throw new ValidationError(
      `${api}() cannot debounce (debounce.key ${JSON.stringify(debounce.key)}): ${DEBOUNCE_APIS[api] ?? 'it decides the state itself'}; ` +
        'use enqueue() with debounce, or pass debounce: null to drop the default of the job definition',
    );
  }
  if (dedupKey !== undefined) {
    throw new ValidationError(
      `${api}() options.dedupKey and debounce are exclusive: dedupKey keeps the first job (${JSON.stringify(dedupKey)}), debounce keeps the last (${JSON.stringify(debounce.key)}); give one of them`,
    );
  }
  const { key, delay } = debounce;
  if (delay === 0) return { debounceKey: key, state: { name: 'Enqueued', reason: `Debounced (key ${key})` } };
  const runAt = new Date(Date.now() + delay);
  return {
    debounceKey: key,
    state: { name: 'Scheduled', runAt, reason: `Debounced (key ${key}): runs ${delay} ms after the last enqueue` },
  };
}

const DEBOUNCE_APIS: Readonly<Record<string, string>> = {
  schedule: 'debounce sets the due time (delay ms after the last enqueue), so it takes no at or delay',
  continueWith: 'a continuation waits for its parent',
  continueWhenAll: 'a batch continuation waits for its batch',
  batch: 'a replaced member would leave its batch',
};

/** The metadata stored with a job: the caller's, and the job's own trace parenting if it has one. */
function withMetadata(api: string, options: RequestOptions, parenting: Parenting | undefined): { metadata?: Record<string, string> } {
  const own: Record<string, string> = parenting === undefined ? {} : { [PARENTING_METADATA_KEY]: parenting };
  if (options.metadata === undefined) return parenting === undefined ? {} : { metadata: own };
  const metadata = validateMetadata(options.metadata, `${api}() options.metadata`);
  return { metadata: { ...metadata, ...own } };
}
