import type { JobRequest } from './job-creator.ts';
import type { FlowControl } from '../jobs/flow-control.ts';
import type { RecurringJobRecord } from '../types.ts';

/**
 * The job request for one occurrence of a recurring job, with `flow`: the concurrency key and rate
 * limit of its definition (a worker firing it resolves them from the definition it has). A debounce
 * does not apply: an occurrence is due at its time.
 */
export function occurrence(recurring: RecurringJobRecord, state: { name: 'Enqueued'; reason: string }, flow: FlowControl = {}): JobRequest {
  return {
    type: recurring.type,
    method: recurring.method,
    argsJson: recurring.argsJson,
    queue: recurring.queue,
    priority: recurring.priority,
    retry: recurring.retry,
    recurringId: recurring.id,
    state,
    ...(flow.concurrency && { concurrency: flow.concurrency }),
    ...(flow.rateLimit && { rateLimit: flow.rateLimit }),
  };
}
