import { JobNotFoundError, type Client } from 'pilotlight';
import type { Flash } from '../html/context.ts';

/** Create a job from the recurring job now (`client.recurring.trigger`). Throws `JobNotFoundError` for an unknown id. */
export async function triggerRecurring(client: Client<unknown>, id: string): Promise<Flash> {
  const jobId = await client.recurring.trigger(id);
  return { kind: 'success', text: `Triggered recurring job '${id}': job ${jobId} is enqueued` };
}

/** Remove the recurring job (the jobs it created stay). Throws `JobNotFoundError` for an unknown id. */
export async function removeRecurring(client: Client<unknown>, id: string): Promise<Flash> {
  if (!(await client.recurring.remove(id))) throw new JobNotFoundError(id, `Recurring job '${id}' does not exist`);
  return { kind: 'success', text: `Removed recurring job '${id}'` };
}
