import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { JobRecord, StateName, StateRecord } from '../../types.ts';
import type { ClaimRequest, NewJob, NewRecurringJob, Store, StoreEvent, Transition } from '../store.ts';

/** Makes a fresh, empty store for one test. */
export type StoreFactory = () => Store | Promise<Store>;

/**
 * Registers a test that runs `body` against a fresh store, migrated, and closes it afterwards.
 * Every contract test goes through here, so no test sees another's data.
 */
export function storeIt(createStore: StoreFactory, name: string, body: (store: Store) => Promise<void>): void {
  it(name, async () => {
    const store = await createStore();
    try {
      await store.migrate();
      await body(store);
    } finally {
      await store.close();
    }
  });
}

/**
 * Fixed instants, so that every time a test passes in is explicit and ordered. Whole milliseconds
 * only: every store keeps those exactly.
 */
export const T0 = Date.parse('2030-01-01T00:00:00.000Z');
export function at(seconds: number): Date {
  return new Date(T0 + seconds * 1000);
}

export const ALL_STATES: readonly StateName[] = ['Enqueued', 'Scheduled', 'Awaiting', 'Processing', 'Succeeded', 'Failed', 'Deleted'];

/** A job to insert; `state` defaults to `Enqueued` at `at(0)`, `runAt` to the state's due time. */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  const state: StateRecord = overrides.state ?? { name: 'Enqueued', reason: 'Enqueued by the contract suite', at: at(0) };
  return {
    type: 'Mailer',
    method: 'send',
    argsJson: '["ada@example.com",{"subject":"Hello"}]',
    queue: 'default',
    priority: 0,
    retry: {},
    metadata: {},
    ...overrides,
    state,
    runAt: overrides.runAt ?? state.runAt ?? state.at,
  };
}

export function scheduled(runAt: Date, overrides: Partial<NewJob> = {}): NewJob {
  return newJob({ ...overrides, state: { name: 'Scheduled', reason: `Scheduled for ${runAt.toISOString()}`, runAt, at: at(0) } });
}

export function awaiting(parentId: string, overrides: Partial<NewJob> = {}): NewJob {
  return newJob({ ...overrides, parentId, state: { name: 'Awaiting', reason: `Waiting for job ${parentId}`, at: at(0) } });
}

/** Inserts jobs that must all be created; returns their ids in order. */
export async function create(store: Store, ...jobs: NewJob[]): Promise<string[]> {
  const results = await store.createJobs(jobs);
  assert.equal(results.length, jobs.length);
  for (const result of results) assert.equal(result.created, true, `expected job ${result.id} to be created`);
  return results.map((result) => result.id);
}

export async function createOne(store: Store, job: NewJob = newJob()): Promise<string> {
  const [id] = await create(store, job);
  return id!;
}

export async function mustGet(store: Store, id: string): Promise<JobRecord> {
  const job = await store.getJob(id);
  assert.ok(job, `job ${id} should exist`);
  return job;
}

/** Moves job `id` from whatever state it is in to `state`; the change must apply. */
export async function moveTo(
  store: Store,
  id: string,
  state: StateName,
  extra: Omit<Partial<Transition>, 'id' | 'expect'> = {},
): Promise<JobRecord> {
  const job = await mustGet(store, id);
  const [moved] = await store.transition([
    { id, expect: { state: job.state }, to: { name: state, reason: `Moved to ${state} by the contract suite`, at: at(50) }, ...extra },
  ]);
  assert.ok(moved, `job ${id} should move from ${job.state} to ${state}`);
  return moved;
}

/** The claim request `claim()` and `claimUpTo()` make: queue `default`, worker `worker-1`, at `at(10)`, leased until `at(40)`. */
export interface ClaimOptions {
  queue?: string;
  queues?: readonly string[];
  serverName?: string;
  now?: Date;
  leaseUntil?: Date;
}

function claimRequest(limit: number, options: ClaimOptions): ClaimRequest {
  return {
    queues: options.queues ?? [options.queue ?? 'default'],
    limit,
    serverName: options.serverName ?? 'worker-1',
    now: options.now ?? at(10),
    leaseUntil: options.leaseUntil ?? at(40),
  };
}

/** Claims up to `limit` jobs, however many that is (flow control may hold some back). */
export function claimUpTo(store: Store, limit: number, options: ClaimOptions = {}): Promise<JobRecord[]> {
  return store.claimJobs(claimRequest(limit, options));
}

/** The change a worker makes when it records the outcome of its own attempt (pinned to it). */
export function finished(job: JobRecord, to: Transition['to'], extra: Partial<Transition> = {}): Transition {
  return { id: job.id, job, expect: { state: 'Processing', attempt: job.attempt, serverName: job.serverName! }, to, ...extra };
}

/** Claims exactly the given number of jobs from `queue`. */
export async function claim(store: Store, count: number, options: ClaimOptions = {}): Promise<JobRecord[]> {
  const claimed = await claimUpTo(store, count, options);
  assert.equal(claimed.length, count, `expected to claim ${count} job(s)`);
  return claimed;
}

export function recurringJob(overrides: Partial<NewRecurringJob> = {}): NewRecurringJob {
  return {
    id: 'nightly-report',
    cron: '0 3 * * *',
    timeZone: 'Europe/Paris',
    misfire: 'run-once',
    type: 'Reports',
    method: 'nightly',
    argsJson: '["eu-west",42]',
    queue: 'reports',
    priority: 3,
    retry: { attempts: 2, backoff: 5000 },
    nextRunAt: at(100),
    ...overrides,
  };
}

/**
 * A copy without the keys whose value is `undefined`: optional fields (of a state record, of a
 * create result) may be absent or `undefined`, and the suite accepts either.
 */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `getHistory()`, with optional fields compacted for comparison. */
export async function historyOf(store: Store, id: string): Promise<StateRecord[]> {
  return (await store.getHistory(id)).map((state) => compact(state));
}

export function ids(jobs: readonly { id: string }[]): string[] {
  return jobs.map((job) => job.id);
}

export function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

/** Records a store's events; `waitFor` tolerates stores that deliver them asynchronously. */
export function recordEvents(store: Store): {
  events: StoreEvent[];
  unsubscribe: () => void;
  waitFor: (what: string, match: (event: StoreEvent) => boolean, timeout?: number) => Promise<StoreEvent>;
} {
  const events: StoreEvent[] = [];
  const unsubscribe = store.subscribe((event) => events.push(event));
  const waitFor = async (what: string, match: (event: StoreEvent) => boolean, timeout = 2_000): Promise<StoreEvent> => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      if (Date.now() > deadline) assert.fail(`No ${what} event within ${timeout} ms; got ${JSON.stringify(events)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { events, unsubscribe, waitFor };
}

/** Lets asynchronously delivered events arrive before asserting that some did not. */
export function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
