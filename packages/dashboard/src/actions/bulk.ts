import { JobNotFoundError, type Client, type JobRecord, type StateName, type Store } from 'pilotlight';
import { LIMITS } from '../config/defaults.ts';
import { STATE_NAMES, totalOf } from '../data/overview.ts';
import type { Flash } from '../html/context.ts';
import { plural } from '../html/format.ts';
import { actionApplies, type JobAction } from './applies.ts';
import { runJobAction } from './job-actions.ts';

/** The jobs a bulk action is for: a selection of ids, or everything a filter matches. */
export type BulkTarget =
  | { readonly kind: 'ids'; readonly ids: readonly string[] }
  | {
      readonly kind: 'filter';
      readonly state: StateName | undefined;
      readonly queue: string | undefined;
      readonly type: string | undefined;
    };

/** What the confirmation page shows and posts back. */
export interface BulkEstimate {
  /** How many jobs the action will change. */
  readonly count: number;
  /** For a filter: the newest matching job now; jobs created after the confirmation are left alone. */
  readonly upto: string | undefined;
}

/** How many jobs the action would change: the selection, or the filter's matches in the states it applies to (from counters). */
export async function estimateBulk(store: Store<unknown>, action: JobAction, target: BulkTarget): Promise<BulkEstimate> {
  if (target.kind === 'ids') return { count: target.ids.length, upto: undefined };
  const counts = await store.countJobs({ ...(target.queue && { queue: target.queue }), ...(target.type && { type: target.type }) });
  const states = STATE_NAMES.filter((state) => (target.state === undefined || state === target.state) && actionApplies(action, state));
  const count = totalOf(counts, states);
  const [newest] = count === 0 ? [] : await store.listJobs({ ...filterQuery(target), limit: 1 });
  return { count, upto: newest?.id };
}

/**
 * Apply the action to at most `confirmed` jobs of the target, one by one through the client (each
 * a traced state change with its history entry). A filter is walked newest first from `upto`, in
 * batches of `LIMITS.bulkBatchSize` (`listJobs` with `before`), so that the work per read is
 * bounded whatever the store holds. Jobs that moved meanwhile, or are gone, are skipped.
 */
export async function applyBulk(
  client: Client<unknown>,
  action: JobAction,
  target: BulkTarget,
  confirmed: number,
  upto: string | undefined,
): Promise<Flash> {
  let changed = 0;
  let skipped = 0;
  let remaining = confirmed;
  const run = async (id: string) => {
    remaining--;
    const done = await runJobAction(client, action, id).catch((error: unknown) => {
      if (error instanceof JobNotFoundError) return false;
      throw error;
    });
    if (done) changed++;
    else skipped++;
  };
  if (target.kind === 'ids') {
    for (const id of target.ids.slice(0, confirmed)) await run(id);
  } else if (upto !== undefined) {
    const first = await client.store.getJob(upto);
    if (first && matches(action, target, first)) await run(first.id);
    for (let before = upto; remaining > 0;) {
      const batch = await client.store.listJobs({ ...filterQuery(target), before, limit: LIMITS.bulkBatchSize });
      for (const job of batch) {
        if (remaining === 0) break;
        if (actionApplies(action, job.state)) await run(job.id);
      }
      if (batch.length < LIMITS.bulkBatchSize) break;
      before = batch.at(-1)!.id;
    }
  }
  const verb = action === 'requeue' ? 'Requeued' : 'Deleted';
  const note = skipped === 0 ? '' : `; ${plural(skipped, 'job')} skipped (moved meanwhile or gone)`;
  return { kind: changed === 0 && skipped > 0 ? 'error' : 'success', text: `${verb} ${plural(changed, 'job')}${note}` };
}

function filterQuery(target: Extract<BulkTarget, { kind: 'filter' }>) {
  return {
    ...(target.state && { state: target.state }),
    ...(target.queue && { queue: target.queue }),
    ...(target.type && { type: target.type }),
  };
}

function matches(action: JobAction, target: Extract<BulkTarget, { kind: 'filter' }>, job: JobRecord): boolean {
  return (
    actionApplies(action, job.state) &&
    (target.state === undefined || job.state === target.state) &&
    (target.queue === undefined || job.queue === target.queue) &&
    (target.type === undefined || job.type === target.type)
  );
}
