import type { Client } from 'pilotlight';
import type { Flash } from '../html/context.ts';

export type QueueAction = 'pause' | 'resume';

/**
 * Pause or resume a queue through the client (`client.queues.pause()` / `resume()`): stored, so
 * every worker of every process obeys it; resuming wakes the workers. Idempotent: pausing a paused
 * queue keeps it paused. The message says what the queue does now.
 */
export async function queueAction(client: Client<unknown>, action: QueueAction, queue: string): Promise<Flash> {
  if (action === 'pause') {
    await client.queues.pause(queue);
    return { kind: 'success', text: `Paused queue ${queue}: no worker starts its jobs until it is resumed` };
  }
  await client.queues.resume(queue);
  return { kind: 'success', text: `Resumed queue ${queue}: workers start its jobs again` };
}
