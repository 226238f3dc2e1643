import type { ResolvedRetention } from '../config/resolve.ts';
import type { ApplyStateContext, ElectStateContext, FilterContext } from '../filters/filter.ts';
import type { FilterPipeline } from '../filters/filter-pipeline.ts';
import type { Store, Transition } from '../storage/store.ts';
import type { JobRecord, StateInput, StateName, StateRecord } from '../types.ts';
import { createBatcher } from '../util/batcher.ts';

export interface ChangeOptions {
  /** The bag of the surrounding operation (an attempt), shared with its other hooks. */
  readonly items?: Map<unknown, unknown>;
  /** What a failed attempt threw, for election filters. */
  readonly error?: unknown;
  /** Apply only if the job is still run by this worker (a worker finishing its own attempt). */
  readonly expectServer?: string;
  /** New attempt count (a job handed back on shutdown gets its attempt back). */
  readonly attempt?: number;
  /** What the handler returned, as JSON: stored if the elected state is Succeeded. */
  readonly resultJson?: string;
  /** Commits the change instead of the store's batched `transition()` (a worker claims in the same commit). */
  readonly commit?: (transition: Transition) => Promise<JobRecord | undefined>;
}

/**
 * Moves jobs between states: runs election filters, applies the elected state in the store under a
 * guard (the state the job was read in), then runs the unapplied/applied filters. Changes made in
 * the same turn of the event loop reach the store in one transaction.
 */
export class StateMachine {
  readonly #store: Store;
  readonly #pipeline: FilterPipeline;
  readonly #retention: ResolvedRetention;
  readonly #serverName: string | undefined;
  readonly #transition: (transition: Transition) => Promise<JobRecord | undefined>;

  constructor(store: Store, pipeline: FilterPipeline, retention: ResolvedRetention, serverName?: string) {
    this.#store = store;
    this.#pipeline = pipeline;
    this.#retention = retention;
    this.#serverName = serverName;
    this.#transition = createBatcher((transitions) => store.transition(transitions));
  }

  /** The fields every filter context has, for an operation with the bag `items`. */
  context(items: Map<unknown, unknown> = new Map()): FilterContext {
    return { store: this.#store, items, serverName: this.#serverName, changeState: (job, candidate) => this.change(job, candidate) };
  }

  /** Elect and apply a new state; resolves to the job after the change, or undefined if the job had moved on. */
  async change(job: JobRecord, candidate: StateInput, options: ChangeOptions = {}): Promise<JobRecord | undefined> {
    return (await this.apply(job, candidate, options))?.job;
  }

  /** `change()`, also telling which state was elected and applied. */
  async apply(
    job: JobRecord,
    candidate: StateInput,
    options: ChangeOptions = {},
  ): Promise<{ job: JobRecord; state: StateRecord } | undefined> {
    const base = this.context(options.items);
    const at = new Date();
    const elected = await this.elect({ ...base, job, currentState: job.state, candidate, error: options.error, at });
    const to: StateRecord = { ...elected, at };
    const updated = await (options.commit ?? this.#transition)({
      id: job.id,
      job,
      expect: {
        state: job.state,
        ...(job.state === 'Processing' && { attempt: job.attempt }),
        ...(options.expectServer !== undefined && { serverName: options.expectServer }),
      },
      to,
      ...dueTime(to),
      ...(to.retry && { retryCount: job.retryCount + 1 }),
      ...(options.attempt !== undefined && { attempt: options.attempt }),
      ...(options.resultJson !== undefined && to.name === 'Succeeded' && { resultJson: options.resultJson }),
      expiresAt: this.expiry(to.name, to.at),
    });
    if (!updated) return undefined;
    await this.applied({ ...base, job: updated, oldState: job.state, newState: to });
    return { job: updated, state: to };
  }

  /** Runs the election filters; returns the elected state. */
  async elect(context: ElectStateContext): Promise<StateInput> {
    if (this.#pipeline.has('onStateElection')) await this.#pipeline.run('onStateElection', context);
    return context.candidate;
  }

  /** Runs the unapplied (old state) then applied (new state) filters of a change that happened. */
  applied(context: ApplyStateContext): void | Promise<void> {
    const unapplied = context.oldState === undefined ? undefined : this.#pipeline.run('onStateUnapplied', context);
    if (unapplied) return unapplied.then(() => this.#pipeline.run('onStateApplied', context));
    return this.#pipeline.run('onStateApplied', context);
  }

  /** When a job entering `state` at `at` may be deleted; `null` to keep it. */
  expiry(state: StateName, at: Date): Date | null {
    const keep =
      state === 'Succeeded'
        ? this.#retention.succeeded
        : state === 'Deleted'
          ? this.#retention.deleted
          : state === 'Failed'
            ? this.#retention.failed
            : null;
    return keep === null ? null : new Date(at.getTime() + keep);
  }
}

/** The due time a state sets: its `runAt` when scheduled, now when enqueued. */
function dueTime(state: StateRecord): { runAt?: Date } {
  if (state.name === 'Scheduled') return { runAt: state.runAt ?? state.at };
  if (state.name === 'Enqueued') return { runAt: state.at };
  return {};
}
