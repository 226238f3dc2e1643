import { JobCreator } from '../client/job-creator.ts';
import { JobCancelledError } from '../errors.ts';
import { createPipeline } from '../filters/built-in-filters.ts';
import type { FilterPipeline } from '../filters/filter-pipeline.ts';
import { StateMachine } from '../states/state-machine.ts';
import type { Store, StoreEvent, Transition } from '../storage/store.ts';
import { createBatcher } from '../util/batcher.ts';
import type { JobRecord, ServerRecord } from '../types.ts';
import type { Logger } from '../util/logger.ts';
import { runAttempt, RunningAttempt, type AttemptDeps } from './attempt.ts';
import { JobRegistry } from './job-registry.ts';
import { runMaintenance, type MaintenanceDeps } from './maintenance.ts';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.ts';
import { settlesWithin } from '../util/settles-within.ts';

/**
 * A worker (Hangfire's *server*): claims due jobs of its queues from the store and runs them, up to
 * `concurrency` at once, while renewing their leases. It also does the shared maintenance: promoting
 * due jobs, requeueing jobs of dead workers, firing recurring jobs.
 *
 * ```ts
 * const worker = createWorker({ store, jobs: [sendEmail, TenantService], concurrency: 10 });
 * await worker.start();
 * // ...
 * await worker.stop();
 * ```
 */
export class Worker {
  /** `host:pid:id`, unique per worker; recorded in the job history and heartbeats. */
  readonly name: string;
  readonly #options: ResolvedWorkerOptions;
  readonly #store: Store;
  readonly #pipeline: FilterPipeline;
  readonly #states: StateMachine;
  readonly #attemptDeps: AttemptDeps;
  readonly #maintenanceDeps: MaintenanceDeps;
  readonly #logger: Logger;
  readonly #running = new Map<string, RunningAttempt>();
  #server: ServerRecord | undefined;
  #status: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #stopping: Promise<void> | undefined;
  #claiming = false;
  /** Store calls under way outside jobs (claim, heartbeat, maintenance): `stop()` waits for them. */
  readonly #chores = new Set<Promise<unknown>>();
  #fetchScheduled = false;
  #fetchAgain = false;
  #timers: NodeJS.Timeout[] = [];
  #maintenanceTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #removeSignalHandlers: (() => void) | undefined;

  constructor(options: WorkerOptions) {
    this.#options = resolveWorkerOptions(options);
    const resolved = this.#options;
    this.name = resolved.serverName;
    this.#store = resolved.store;
    this.#logger = resolved.logger;
    this.#pipeline = createPipeline(resolved.filters, resolved.retry, resolved.tracing, resolved.logger);
    this.#states = new StateMachine(this.#store, this.#pipeline, resolved.retention, this.name);
    const registry = new JobRegistry(resolved.jobs, resolved.activate);
    this.#attemptDeps = {
      store: this.#store,
      states: this.#states,
      pipeline: this.#pipeline,
      registry,
      serverName: this.name,
      commit: createBatcher((transitions) => this.#commitAndClaim(transitions)),
    };
    this.#maintenanceDeps = {
      store: this.#store,
      states: this.#states,
      creator: new JobCreator(this.#pipeline, this.#states),
      retry: resolved.retry,
      logger: resolved.logger,
      serverTimeout: resolved.serverTimeout,
    };
  }

  /** How many jobs this worker is running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  get status(): 'idle' | 'running' | 'stopping' | 'stopped' {
    return this.#status;
  }

  /** Register the worker, then start claiming jobs and doing maintenance. */
  async start(): Promise<void> {
    if (this.#status !== 'idle') throw new Error(`Worker ${this.name} cannot start: it is ${this.#status}`);
    this.#status = 'running';
    const now = new Date();
    this.#server = { name: this.name, queues: this.#options.queues, concurrency: this.#options.concurrency, startedAt: now, heartbeatAt: now };
    await this.#heartbeat();
    this.#unsubscribe = this.#store.subscribe((event) => this.#onStoreEvent(event));
    this.#timers.push(
      setInterval(() => this.#chore(this.#heartbeat()), this.#options.heartbeatInterval),
      setInterval(() => this.#scheduleFetch(), this.#options.pollInterval),
    );
    this.#scheduleMaintenance(0);
    if (this.#options.handleSignals) this.#installSignalHandlers();
    this.#scheduleFetch();
  }

  /**
   * Stop claiming, wait up to `shutdownTimeout` for running jobs, then abort the rest (their
   * `AbortSignal` fires) and hand them back to the queue. Resolves when nothing of the worker is left
   * running: no timer, no listener, no job. Idempotent.
   */
  stop(): Promise<void> {
    if (this.#status === 'idle') this.#status = 'stopped';
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#status === 'stopped') return;
    this.#status = 'stopping';
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#maintenanceTimer);
    this.#removeSignalHandlers?.();
    await Promise.all(this.#chores);
    // Waits until nothing runs, including jobs a commit in flight when stop() began still claimed.
    const finished = async (): Promise<void> => {
      while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((attempt) => attempt.done));
    };
    if (!(await settlesWithin(finished(), this.#options.shutdownTimeout))) {
      for (const attempt of this.#running.values()) {
        attempt.cancel(new JobCancelledError('shutdown', `Worker ${this.name} is stopping`));
      }
      // A handler that ignores its signal is left behind: its job is handed back without waiting.
      if (!(await settlesWithin(finished(), Math.min(1_000, this.#options.shutdownTimeout)))) await this.#handBackStuckJobs();
    }
    this.#unsubscribe?.();
    try {
      await this.#store.removeServer(this.name);
    } catch (error) {
      this.#logger.warn(`Worker ${this.name} could not remove its server record`, { error });
    }
    this.#status = 'stopped';
  }

  async #handBackStuckJobs(): Promise<void> {
    await Promise.all(
      [...this.#running.values()].map(async (attempt) => {
        if (attempt.finishing) return;
        attempt.finishing = true;
        const { job } = attempt;
        const reason = `Worker ${this.name} stopped; its handler ignored the abort signal, job handed back`;
        try {
          await this.#states.change(job, { name: 'Enqueued', reason }, { expectServer: this.name, attempt: job.attempt - 1 });
        } catch (error) {
          this.#logger.error(`Worker ${this.name} could not hand back job ${job.id}; its lease will expire`, { error });
        }
        this.#running.delete(job.id);
      }),
    );
  }

  /** Coalesces fetch requests made in one turn of the event loop (many jobs finishing at once). */
  #scheduleFetch(): void {
    if (this.#fetchScheduled || this.#status !== 'running') return;
    this.#fetchScheduled = true;
    setImmediate(() => {
      this.#fetchScheduled = false;
      this.#chore(this.#fetch());
    });
  }

  async #fetch(): Promise<void> {
    if (this.#claiming) {
      this.#fetchAgain = true;
      return;
    }
    const free = this.#options.concurrency - this.#running.size;
    if (free <= 0 || this.#status !== 'running') return;
    this.#claiming = true;
    this.#fetchAgain = false;
    let jobs: JobRecord[] = [];
    try {
      jobs = await this.#store.claimJobs(this.#claimRequest(free));
    } catch (error) {
      this.#logger.error(`Worker ${this.name} could not claim jobs; retrying at the next poll`, { error });
    } finally {
      this.#claiming = false;
    }
    this.#runClaimed(jobs, free);
  }

  /**
   * Records finished attempts and, in the same commit, claims the jobs that take their slots: a
   * busy worker pays one transaction per batch instead of two. The finishing attempts still count
   * as running here (their filters have yet to run), so their slots are added back.
   */
  async #commitAndClaim(transitions: Transition[]): Promise<(JobRecord | undefined)[]> {
    const free = this.#options.concurrency - this.#running.size + transitions.length;
    if (this.#claiming || this.#status !== 'running') return this.#store.transition(transitions);
    this.#claiming = true;
    this.#fetchAgain = false;
    try {
      const { transitioned, claimed } = await this.#store.transitionAndClaim(transitions, this.#claimRequest(free));
      this.#runClaimed(claimed, free);
      return transitioned;
    } finally {
      this.#claiming = false;
    }
  }

  #claimRequest(limit: number) {
    const now = new Date();
    return { queues: this.#options.queues, limit, serverName: this.name, now, leaseUntil: new Date(now.getTime() + this.#options.leaseDuration) };
  }

  #runClaimed(jobs: JobRecord[], asked: number): void {
    for (const job of jobs) this.#run(job);
    // A full batch means more may be waiting; a wake-up during the claim may have brought more.
    if (jobs.length === asked || this.#fetchAgain) this.#scheduleFetch();
  }

  #run(job: JobRecord): void {
    const attempt = new RunningAttempt(job);
    this.#running.set(job.id, attempt);
    attempt.done = runAttempt(attempt, this.#attemptDeps)
      .catch((error: unknown) => this.#logger.error(`Worker ${this.name} failed recording the outcome of job ${job.id}; its lease will expire`, { error }))
      .finally(() => {
        if (this.#running.get(job.id) === attempt) this.#running.delete(job.id);
        this.#scheduleFetch();
      });
  }

  #onStoreEvent(event: StoreEvent): void {
    if (event.type === 'wake') return this.#scheduleFetch();
    if (event.from !== 'Processing') return;
    const attempt = this.#running.get(event.jobId);
    if (!attempt || attempt.finishing) return;
    const code = event.to === 'Deleted' ? 'deleted' : 'lost';
    attempt.cancel(new JobCancelledError(code, `Job ${event.jobId} was ${code === 'deleted' ? 'deleted' : 'moved to ' + event.to} while running`));
  }

  /** Records the heartbeat, renews leases, and aborts jobs this worker no longer holds. */
  async #heartbeat(): Promise<void> {
    if (!this.#server) return;
    const now = new Date();
    const before = [...this.#running.values()];
    try {
      const held = new Set(
        await this.#store.heartbeat({ ...this.#server, heartbeatAt: now }, new Date(now.getTime() + this.#options.leaseDuration)),
      );
      for (const attempt of before) {
        if (held.has(attempt.job.id) || attempt.finishing || this.#running.get(attempt.job.id) !== attempt) continue;
        const current = await this.#store.getJob(attempt.job.id);
        const code = current?.state === 'Deleted' ? 'deleted' : 'lost';
        attempt.cancel(new JobCancelledError(code, `Job ${attempt.job.id} is no longer held by worker ${this.name} (now ${current?.state ?? 'gone'})`));
      }
    } catch (error) {
      this.#logger.error(`Worker ${this.name} could not record its heartbeat; retrying`, { error });
    }
  }

  #scheduleMaintenance(delay: number): void {
    this.#maintenanceTimer = setTimeout(() => {
      this.#chore(runMaintenance(this.#maintenanceDeps)).then(() => {
        if (this.#status === 'running') this.#scheduleMaintenance(this.#options.maintenanceInterval);
      });
    }, delay);
  }

  /** Tracks a background store call until it settles (they never reject: each logs its own errors). */
  #chore(work: Promise<void>): Promise<void> {
    this.#chores.add(work);
    return work.finally(() => this.#chores.delete(work));
  }

  #installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.#logger.info(`Worker ${this.name} received ${signal}; stopping`);
      void this.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    this.#removeSignalHandlers = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }
}

export function createWorker(options: WorkerOptions): Worker {
  return new Worker(options);
}
