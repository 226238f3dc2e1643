/**
 * The records as `--json` prints them, for scripts: always the same keys in the same order (absent
 * values are `null`, never left out), dates as ISO strings, a job's arguments parsed.
 */
import type { JobRecord, RecurringJobRecord, ServerRecord, StateRecord } from 'pilotlight';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json | undefined };

/** Prints one JSON document on stdout. */
export function printJson(document: Json): void {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

function iso(date: Date | undefined): string | null {
  return date === undefined ? null : date.toISOString();
}

/** The stored result parsed (the stored text itself if it does not parse); `undefined` without one. */
export function parsedResult(job: JobRecord): unknown {
  if (job.resultJson === undefined) return undefined;
  try {
    return JSON.parse(job.resultJson);
  } catch {
    return job.resultJson;
  }
}

/** The stored arguments parsed; `undefined` when they are not a JSON array (the job fails when run). */
export function parsedArgs(job: JobRecord): unknown[] | undefined {
  try {
    const args: unknown = JSON.parse(job.argsJson);
    return Array.isArray(args) ? args : undefined;
  } catch {
    return undefined;
  }
}

export function jobJson(job: JobRecord): Json {
  return {
    id: job.id,
    state: job.state,
    stateReason: job.stateReason ?? null,
    type: job.type,
    method: job.method,
    queue: job.queue,
    priority: job.priority,
    args: (parsedArgs(job) as Json[] | undefined) ?? null,
    metadata: { ...job.metadata },
    attempt: job.attempt,
    retryCount: job.retryCount,
    createdAt: iso(job.createdAt),
    stateChangedAt: iso(job.stateChangedAt),
    runAt: iso(job.runAt),
    parentId: job.parentId ?? null,
    hasContinuations: job.hasContinuations,
    dedupKey: job.dedupKey ?? null,
    recurringId: job.recurringId ?? null,
    serverName: job.serverName ?? null,
    leaseUntil: iso(job.leaseUntil),
    progress: job.progress ? { value: job.progress.value, message: job.progress.message ?? null } : null,
    concurrency: job.concurrency ? { key: job.concurrency.key, limit: job.concurrency.limit } : null,
    rateLimit: job.rateLimit ? { key: job.rateLimit.key, max: job.rateLimit.max, per: job.rateLimit.per } : null,
    debounceKey: job.debounceKey ?? null,
    batchId: job.batchId ?? null,
    awaitsBatch: job.awaitsBatch ? { batchId: job.awaitsBatch.batchId, when: job.awaitsBatch.when } : null,
    // `null` too when the handler returned nothing, or null.
    result: (parsedResult(job) as Json | undefined) ?? null,
  };
}

export function stateJson(state: StateRecord): Json {
  return {
    name: state.name,
    at: iso(state.at),
    reason: state.reason ?? null,
    runAt: iso(state.runAt),
    retry: state.retry ?? false,
    serverName: state.serverName ?? null,
    attempt: state.attempt ?? null,
    error: state.error ? { type: state.error.type, message: state.error.message, stack: state.error.stack ?? null } : null,
  };
}

export function serverJson(server: ServerRecord, alive: boolean): Json {
  return {
    name: server.name,
    queues: [...server.queues],
    concurrency: server.concurrency,
    startedAt: iso(server.startedAt),
    heartbeatAt: iso(server.heartbeatAt),
    alive,
  };
}

export function recurringJson(recurring: RecurringJobRecord): Json {
  return {
    id: recurring.id,
    cron: recurring.cron,
    timeZone: recurring.timeZone,
    type: recurring.type,
    method: recurring.method,
    queue: recurring.queue,
    misfire: recurring.misfire,
    nextRunAt: iso(recurring.nextRunAt),
    lastRunAt: iso(recurring.lastRunAt),
    lastJobId: recurring.lastJobId ?? null,
    createdAt: iso(recurring.createdAt),
  };
}
