import type { Client } from 'pilotlight';
import { JobNotFoundError } from 'pilotlight';
import type { Flash } from '../html/context.ts';
import type { JobAction } from './applies.ts';

/** The reasons the job's history records for the dashboard's actions. */
const REASONS: Readonly<Record<JobAction, string>> = {
  requeue: 'Requeued from the dashboard',
  delete: 'Deleted from the dashboard',
};

/**
 * Requeue or delete one job through the client (filters, tracing and history as for any state
 * change). `false` when it does not apply any more (the job moved meanwhile); throws
 * `JobNotFoundError` for an unknown job.
 */
export function runJobAction(client: Client<unknown>, action: JobAction, id: string): Promise<boolean> {
  return action === 'requeue' ? client.requeue(id, REASONS.requeue) : client.delete(id, REASONS.delete);
}

/** One job's action, with the message the next page shows. */
export async function jobAction(client: Client<unknown>, action: JobAction, id: string): Promise<Flash> {
  if (await runJobAction(client, action, id)) {
    return { kind: 'success', text: `${action === 'requeue' ? 'Requeued' : 'Deleted'} job ${id}` };
  }
  const job = await client.store.getJob(id);
  if (!job) throw new JobNotFoundError(id);
  return { kind: 'error', text: `Job ${id} was not ${action === 'requeue' ? 'requeued' : 'deleted'}: it is ${job.state}` };
}
