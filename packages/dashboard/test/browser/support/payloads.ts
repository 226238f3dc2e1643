import { defineJob } from 'pilotlight';
import { waitFor } from '../../../../pilotlight/test/support/wait.ts';
import type { Seed } from './seed.ts';

/** What an attacker puts in job data: markup, a script URL, and an attribute breaker. */
export const PAYLOADS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', 'javascript:alert(1)', `"'><svg onload=alert(1)>`];

/** The nearest a queue name gets (letters, digits, `_ - . :` only): a script URL scheme. */
export const PAYLOAD_QUEUE = 'javascript:alert';

export interface PayloadJobs {
  /** Per payload: a job of that type, with that argument, waiting in `PAYLOAD_QUEUE`. */
  readonly enqueued: readonly string[];
  /** Per payload: a job of that type that failed on the worker, which does not know the type. */
  readonly unknownType: readonly string[];
  /** Per payload: a `feed.import` job whose exception message carries it. */
  readonly failedWith: readonly string[];
}

/**
 * Adds, to the seeded store, jobs whose types, arguments, exception messages and queue carry the
 * payloads, and one recurring job per payload whose id, type and arguments are it.
 */
export async function seedPayloads({ client, jobs }: Seed): Promise<PayloadJobs> {
  const enqueued: string[] = [];
  const unknownType: string[] = [];
  const failedWith: string[] = [];
  for (const payload of PAYLOADS) {
    const job = defineJob(payload, (_args: { note: string }) => {}, { retry: { attempts: 1 } });
    enqueued.push(await client.enqueue(job, { note: payload }, { queue: PAYLOAD_QUEUE }));
    unknownType.push(await client.enqueue(job, { note: payload }));
    failedWith.push(await client.enqueue(jobs.feed, { url: payload }));
    await client.recurring.addOrUpdate(payload, '0 3 1 1 *', job, { note: payload }, { queue: PAYLOAD_QUEUE });
  }
  await waitFor(async () => {
    for (const id of [...unknownType, ...failedWith]) if ((await client.getJob(id))?.state !== 'Failed') return false;
    return true;
  }, 'the payload jobs to fail');
  return { enqueued, unknownType, failedWith };
}
