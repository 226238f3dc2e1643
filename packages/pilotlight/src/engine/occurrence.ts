import type { JobRequest } from './job-creator.ts';
import type { RecurringJobRecord } from '../types.ts';

/** The job request for one occurrence of a recurring job. */
export function occurrence(recurring: RecurringJobRecord, state: { name: 'Enqueued'; reason: string }): JobRequest {
  return {
    type: recurring.type,
    method: recurring.method,
    argsJson: recurring.argsJson,
    queue: recurring.queue,
    priority: recurring.priority,
    retry: recurring.retry,
    recurringId: recurring.id,
    state,
  };
}
