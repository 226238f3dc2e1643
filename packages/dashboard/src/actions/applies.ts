import type { StateName } from 'pilotlight';

export type JobAction = 'requeue' | 'delete';

/**
 * Whether the action can change a job in `state`, as `client.requeue()` and `client.delete()`
 * decide: a job enqueued or running is not requeued, a deleted one is not deleted again. Pages
 * show a button only where it applies; bulk actions count only these jobs.
 */
export function actionApplies(action: JobAction, state: StateName): boolean {
  return action === 'requeue' ? state !== 'Enqueued' && state !== 'Processing' : state !== 'Deleted';
}
