import type pg from 'pg';
import { JobStates } from 'pilotlight';
import { JobCountDeltas, type CreateJobResult, type NewJob } from 'pilotlight/store-kit';
import { writeDeltas } from './counters.ts';
import { insertJob, type InsertEffects } from './job-writes.ts';
import { notifyQueues } from './notify.ts';

/** What `insertJobs()` wrote, and what the store announces in this process once it commits. */
export interface InsertedJobs extends Pick<InsertEffects, 'replaced'> {
  readonly created: CreateJobResult[];
  /** Queues whose workers to wake: of the Enqueued jobs created, and of Enqueued parents a continuation locked. */
  readonly wakeQueues: string[];
}

/**
 * Inserts `jobs` one at a time in the caller's transaction (the path of jobs that read before they
 * write: continuations, dedup and debounce keys, batch continuations; plain jobs take
 * `insertPlainJobs()`), records their counts, and NOTIFYs the queues to wake.
 */
export async function insertJobs(client: pg.ClientBase, s: string, channel: string, jobs: readonly NewJob[]): Promise<InsertedJobs> {
  const effects: InsertEffects = { wakeQueues: [], replaced: [] };
  const created: CreateJobResult[] = [];
  const deltas = new JobCountDeltas();
  for (const job of jobs) created.push(await insertJob(client, s, job, deltas, effects));
  await writeDeltas(client, s, deltas);
  const wakeQueues = [...enqueuedQueues(jobs, created), ...effects.wakeQueues];
  await notifyQueues(client, channel, wakeQueues);
  return { created, replaced: effects.replaced, wakeQueues };
}

/** The queues of the jobs created `Enqueued`. */
export function enqueuedQueues(jobs: readonly NewJob[], results: readonly CreateJobResult[]): string[] {
  return jobs.filter((job, i) => results[i]!.created && job.state.name === JobStates.Enqueued).map((job) => job.queue);
}
