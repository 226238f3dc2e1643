import type { ApplyStateContext, CreatedContext, FilterContext, JobFilter } from '../filters/filter.ts';
import { FINISHED_STATES, type JobRecord, type StateName } from '../types.ts';

/** Key under which the job creator leaves a new batch continuation's `batchUnfinished` for `onCreated`. */
export const BATCH_UNFINISHED = Symbol('pilotlight.batchUnfinished');

/**
 * Batch continuations (`client.continueWhenAll()`), as Hangfire Pro's batch continuations: one waits
 * (`Awaiting`) until no member of its batch is unfinished (every one is Succeeded, Failed or
 * Deleted), then is enqueued, or, waiting with `when: 'succeeded'` for a batch some member of which
 * did not succeed, deleted. Checked when a member reaches a final state, when the continuation is
 * created (its batch may be done already) and by maintenance (a process that died in between). The
 * release is a guarded change (from Awaiting), so it happens once whatever the racing workers.
 */
export class BatchFilter implements JobFilter {
  /** With the continuations filter: after the other filters have seen the member's own change. */
  readonly order = 100;

  // Both hooks stay synchronous (no promise) unless there is work: they run on every job.
  onCreated(context: CreatedContext): void | Promise<void> {
    if (!context.created || !context.jobId || context.items.get(BATCH_UNFINISHED) !== 0) return;
    return releaseCreated(context, context.jobId);
  }

  onStateApplied(context: ApplyStateContext): void | Promise<void> {
    const { job, newState } = context;
    if (job.batchId !== undefined && FINISHED_STATES.has(newState.name)) return releaseBatch(context, job.batchId);
  }
}

async function releaseCreated(context: FilterContext, id: string): Promise<void> {
  const continuation = await context.store.getJob(id);
  if (continuation?.state !== 'Awaiting' || !continuation.awaitsBatch) return;
  await releaseBatchContinuation(context, continuation, await context.store.countBatch(continuation.awaitsBatch.batchId));
}

/** Releases the batch's waiting continuations if no member is unfinished; the cheap read (any waiting?) first. */
export async function releaseBatch(context: FilterContext, batchId: string): Promise<void> {
  const continuations = await context.store.listBatchContinuations(batchId);
  if (continuations.length === 0) return;
  const counts = await context.store.countBatch(batchId);
  for (const continuation of continuations) await releaseBatchContinuation(context, continuation, counts);
}

/** Moves a waiting batch continuation on, given its batch's counts; none while a member is unfinished. */
export async function releaseBatchContinuation(
  context: FilterContext,
  continuation: JobRecord,
  counts: Record<StateName, number>,
): Promise<JobRecord | undefined> {
  if (!continuation.awaitsBatch || unfinished(counts) > 0) return undefined;
  const { batchId, when } = continuation.awaitsBatch;
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const missed = counts.Failed + counts.Deleted;
  if (when === 'succeeded' && missed > 0) {
    return context.changeState(continuation, {
      name: 'Deleted',
      reason: `Batch ${batchId}: ${missed} of ${total} members did not succeed (${counts.Failed} failed, ${counts.Deleted} deleted)`,
    });
  }
  const outcome = when === 'succeeded' ? `all ${total} members succeeded` : `all ${total} members finished (${counts.Succeeded} succeeded)`;
  return context.changeState(continuation, { name: 'Enqueued', reason: `Batch ${batchId}: ${outcome}` });
}

/** Members not yet in a final state. */
export function unfinished(counts: Record<StateName, number>): number {
  let count = 0;
  for (const [state, n] of Object.entries(counts)) if (!FINISHED_STATES.has(state as StateName)) count += n;
  return count;
}
