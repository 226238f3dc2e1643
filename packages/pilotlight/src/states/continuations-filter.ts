import type { ApplyStateContext, CreatedContext, FilterContext, JobFilter } from '../filters/filter.ts';
import type { JobRecord, StateName } from '../types.ts';

/**
 * Continuations, as Hangfire's `ContinuationsSupport` filter: a continuation waits (`Awaiting`) until
 * its parent succeeds, then is enqueued; if the parent is deleted, so is the continuation. A parent
 * that fails keeps its continuations waiting, since a failed job can still be requeued.
 */
export class ContinuationsFilter implements JobFilter {
  /** After the other filters: a parent's own state change is seen before its continuations move. */
  readonly order = 100;

  /** The parent may have finished before the continuation was stored. */
  // Both hooks stay synchronous (no promise) unless there is work: they run on every job.
  onCreated(context: CreatedContext): void | Promise<void> {
    if (!context.created || context.job.initialState.name !== 'Awaiting' || !context.jobId) return;
    const parentState = context.items.get(PARENT_STATE) as StateName | undefined;
    if (parentState === 'Succeeded' || parentState === 'Deleted') return releaseById(context, context.jobId, parentState);
  }

  onStateApplied(context: ApplyStateContext): void | Promise<void> {
    const { job, newState } = context;
    if (job.hasContinuations && (newState.name === 'Succeeded' || newState.name === 'Deleted')) {
      return releaseAll(context, job.id, newState.name);
    }
  }
}

async function releaseById(context: FilterContext, childId: string, parentState: StateName): Promise<void> {
  const child = await context.store.getJob(childId);
  if (child) await releaseContinuation(context, child, parentState);
}

async function releaseAll(context: FilterContext, parentId: string, parentState: StateName): Promise<void> {
  for (const child of await context.store.listContinuations(parentId)) await releaseContinuation(context, child, parentState);
}

/** Key under which the client leaves the parent's state (as the store saw it) for `onCreated`. */
export const PARENT_STATE = Symbol('pilotlight.parentState');

/** Moves a waiting continuation on, given its parent's final state (`undefined`: the parent is gone). */
export function releaseContinuation(
  context: FilterContext,
  child: JobRecord,
  parentState: StateName | undefined,
): Promise<JobRecord | undefined> {
  if (parentState === 'Succeeded') {
    return context.changeState(child, { name: 'Enqueued', reason: `Parent job ${child.parentId} succeeded` });
  }
  const why = parentState === 'Deleted' ? 'was deleted' : 'no longer exists';
  return context.changeState(child, { name: 'Deleted', reason: `Parent job ${child.parentId} ${why}` });
}
