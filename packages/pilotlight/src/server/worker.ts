import { JobCreator } from '../engine/job-creator.ts';
import { ErrorCodes, JobCancelledError, PilotlightError, StoreClosedError } from '../errors.ts';
import { createPipeline } from '../engine/built-in-filters.ts';
import type { FilterPipeline } from '../filters/filter-pipeline.ts';
import { StateMachine } from '../states/state-machine.ts';
import type { Store, StoreEvent, Transition } from '../storage/store.ts';
import { createBatcher } from '../util/batcher.ts';
import type { JobRecord, ServerRecord } from '../types.ts';
import type { Logger } from '../util/logger.ts';
import { runAttempt, RunningAttempt, type AttemptDeps } from './attempt.ts';
import { JobRegistry } from './job-registry.ts';
import { Slots } from './slots.ts';
import { recordOutcome } from './record-outcome.ts';
import { RepeatedFailures } from '../util/repeated-failures.ts';
import { runMaintenance, type MaintenanceDeps } from './maintenance.ts';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.ts';
import { AttemptTimeouts } from './attempt-timeouts.ts';
import { Heartbeat } from './heartbeat.ts';
import { drain, returnUnstarted, stopOnSignals, stopping } from './shutdown.ts';
import { Zombies } from './zombies.ts';
import { DEFAULTS } from '../config/defaults.ts';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.ts';

/** What a worker is doing now (`worker.stats`). */
export interface WorkerStats {
  /** Handlers running now, zombies included: the concurrency slots taken. */
  readonly running: number;
  /**
   * Handlers still running after their attempt ended (timed out, or the job deleted or taken from
   * this worker) because they ignore their signal: each keeps its slot until it settles.
   */
  readonly zombies: number;
}

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
  /** Store calls that fail over and over (a database outage) are logged once in a while, not each time. */
  readonly #failures: RepeatedFailures;
  /** Every job this worker holds: running, or (prefetched) waiting for a slot. */
  readonly #running = new Map<string, RunningAttempt>();
  readonly #slots: Slots;
  readonly #zombies: Zombies;
  readonly #metrics: WorkerMetrics;
  #server: ServerRecord | undefined;
  #status: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #stopping: Promise<void> | undefined;
  #claiming = false;
  /** Changes whenever a claim starts or ends: tells whether a claim ran during some store call. */
  #claimEpoch = 0;
  readonly #heartbeat: Heartbeat;
  /** Aborted when `stop()` gives up on outcomes the store keeps refusing. */
  readonly #outcomeRetries = new AbortController();
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
    this.#slots = new Slots(resolved.concurrency);
    this.#store = resolved.store;
    this.#logger = resolved.logger;
    this.#failures = new RepeatedFailures(resolved.logger);
    this.#zombies = new Zombies(this.name, resolved.logger, DEFAULTS.worker.zombieGrace);
    this.#pipeline = createPipeline(resolved.filters, resolved.retry, resolved, resolved.logger);
    this.#metrics = createWorkerMetrics(resolved.metrics, {
      store: this.#store,
      concurrency: resolved.concurrency,
      busy: () => this.#slots.used,
    });
    this.#states = new StateMachine(this.#store, this.#pipeline, resolved.retention, this.name);
    const registry = new JobRegistry(resolved.jobs, resolved.activate);
    const commit = createBatcher((transitions: Transition[]) => this.#commitAndClaim(transitions), { oneAtATime: true });
    this.#attemptDeps = {
      store: this.#store,
      states: this.#states,
      pipeline: this.#pipeline,
      registry,
      timeouts: new AttemptTimeouts(resolved.jobs, resolved.timeout),
      serverName: this.name,
      logger: resolved.logger,
      commit: (transition) =>
        recordOutcome(transition, {
          workerName: this.name,
          commit,
          failures: this.#failures,
          logger: this.#logger,
          signal: this.#outcomeRetries.signal,
        }),
    };
    this.#maintenanceDeps = {
      store: this.#store,
      states: this.#states,
      creator: new JobCreator(this.#pipeline, this.#states),
      retry: resolved.retry,
      logger: resolved.logger,
      failures: this.#failures,
      serverTimeout: resolved.serverTimeout,
      metrics: this.#metrics,
      flowControlOf: (recurring) => registry.flowControl(recurring),
    };
    this.#heartbeat = new Heartbeat({
      store: this.#store,
      states: this.#states,
      logger: resolved.logger,
      workerName: this.name,
      leaseDuration: resolved.leaseDuration,
      running: this.#running,
      claiming: () => this.#claiming,
      claimEpoch: () => this.#claimEpoch,
    });
  }

  /** How many jobs this worker is running now (prefetched jobs waiting for a slot not counted). */
  get runningCount(): number {
    return this.#slots.used;
  }

  /** Handlers running (zombies included) and zombies: see `WorkerStats`. */
  get stats(): WorkerStats {
    return { running: this.#slots.used, zombies: this.#zombies.size };
  }

  /**
   * Jobs the worker may take now: its capacity (running and prefetched) less the jobs it holds and
   * the zombies, whose slots are taken while their jobs are no longer held.
   */
  get #free(): number {
    return this.#options.concurrency + this.#options.prefetch - this.#running.size - this.#zombies.size;
  }

  get status(): 'idle' | 'running' | 'stopping' | 'stopped' {
    return this.#status;
  }

  /** Register the worker, then start claiming jobs and doing maintenance. */
  async start(): Promise<void> {
    if (this.#status !== 'idle') {
      throw new PilotlightError(
        ErrorCodes.WORKER_NOT_IDLE,
        `Worker ${this.name} cannot start: it is ${this.#status}. start() runs once per worker; create a new worker (createWorker()) to start again`,
      );
    }
    this.#status = 'running';
    const now = new Date();
    this.#server = {
      name: this.name,
      queues: this.#options.queues,
      concurrency: this.#options.concurrency,
      startedAt: now,
      heartbeatAt: now,
    };
    // A chore, so that a stop() called meanwhile waits for it; then nothing is armed.
    await this.#chore(this.#beat());
    if (this.#status !== 'running') return;
    this.#metrics.start();
    this.#unsubscribe = this.#store.subscribe((event) => this.#onStoreEvent(event));
    this.#timers.push(
      setInterval(() => this.#chore(this.#beat()), this.#options.heartbeatInterval),
      setInterval(() => this.#scheduleFetch(), this.#options.pollInterval),
    );
    this.#scheduleMaintenance(0);
    if (this.#options.handleSignals) this.#removeSignalHandlers = stopOnSignals(this.name, this.#logger, () => void this.stop());
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
    await drain({
      workerName: this.name,
      logger: this.#logger,
      shutdownTimeout: this.#options.shutdownTimeout,
      running: this.#running,
      zombies: this.#zombies,
      chores: this.#chores,
      outcomeRetries: this.#outcomeRetries,
      handBack: this.#attemptDeps,
    });
    this.#unsubscribe?.();
    this.#metrics.stop();
    try {
      await this.#store.removeServer(this.name);
    } catch (error) {
      this.#logger.warn(`Worker ${this.name} could not remove its server record`, { error });
    }
    this.#status = 'stopped';
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
    const free = this.#free;
    if (free <= 0 || this.#status !== 'running') return;
    this.#claiming = true;
    this.#claimEpoch++;
    this.#fetchAgain = false;
    let jobs: JobRecord[] = [];
    try {
      jobs = await this.#metrics.measure('claim', () => this.#store.claimJobs(this.#claimRequest(free)));
      this.#failures.succeeded('claim', `Worker ${this.name} claims jobs again`);
    } catch (error) {
      this.#storeFailed('claim', `Worker ${this.name} could not claim jobs; retrying at the next poll`, error);
    } finally {
      this.#claiming = false;
      this.#claimEpoch++;
    }
    this.#runClaimed(jobs, free);
  }

  /**
   * Records finished attempts and, in the same commit, claims the jobs that take their slots: a
   * busy worker pays one transaction per batch instead of two. The finishing attempts still count
   * as running here (their filters have yet to run), so their slots are added back; not those of
   * attempts whose handler runs on (timed out, ignoring its signal): they keep their slots.
   */
  async #commitAndClaim(transitions: Transition[]): Promise<(JobRecord | undefined)[]> {
    // Only attempts this worker holds give their slots back (a batch can also carry other jobs' changes).
    const ending = transitions.filter((transition) => {
      const attempt = this.#running.get(transition.id);
      return attempt !== undefined && !attempt.handlerRunning;
    }).length;
    const free = this.#free + ending;
    if (this.#claiming || this.#status !== 'running') return this.#metrics.measure('commit', () => this.#store.transition(transitions));
    this.#claiming = true;
    this.#claimEpoch++;
    this.#fetchAgain = false;
    try {
      const { transitioned, claimed } = await this.#metrics.measure('commit', () =>
        // No claim without a free slot (zombies can hold slots beyond the jobs held).
        this.#store.transitionAndClaim(transitions, free > 0 ? this.#claimRequest(free) : undefined),
      );
      this.#runClaimed(claimed, free);
      return transitioned;
    } finally {
      this.#claiming = false;
      this.#claimEpoch++;
    }
  }

  #claimRequest(limit: number) {
    const now = new Date();
    return {
      queues: this.#options.queues,
      limit,
      serverName: this.name,
      now,
      leaseUntil: new Date(now.getTime() + this.#options.leaseDuration),
    };
  }

  #runClaimed(jobs: JobRecord[], asked: number): void {
    for (const job of jobs) this.#run(job);
    // A full batch means more may be waiting; a wake-up during the claim may have brought more.
    if (jobs.length === asked || this.#fetchAgain) this.#scheduleFetch();
  }

  #run(job: JobRecord): void {
    const attempt = new RunningAttempt(job);
    this.#running.set(job.id, attempt);
    // Claimed by a commit that was in flight when stop() began: it goes back without starting.
    if (this.#status !== 'running') attempt.cancel(stopping(this.name));
    attempt.done = this.#runInSlot(attempt)
      .catch((error: unknown) =>
        this.#logger.error(
          `Worker ${this.name} failed recording the outcome of job ${job.id}; its lease will expire once the worker has stopped`,
          { error },
        ),
      )
      .finally(() => {
        if (this.#running.get(job.id) === attempt) this.#running.delete(job.id);
        this.#scheduleFetch();
      });
  }

  /** Runs the attempt once a slot is free; one cancelled before that is handed back or dropped. */
  async #runInSlot(attempt: RunningAttempt): Promise<void> {
    if (!(await this.#slots.acquire(attempt.controller.signal))) return returnUnstarted(attempt, this.#attemptDeps);
    attempt.started = true;
    // The slot is the handler's: it frees up once the handler has settled, while the outcome may
    // still be being recorded (batched with other attempts' outcomes), so that the next job starts
    // meanwhile. A handler that outlives its attempt (timed out, or its job deleted, and ignoring
    // its signal) keeps the slot until it settles: its work really goes on.
    attempt.takeSlot(() => this.#slots.release());
    try {
      await runAttempt(attempt, this.#attemptDeps);
    } finally {
      attempt.ended();
      // The attempt is over and its job no longer held here; its handler is a zombie until it settles.
      if (attempt.handlerRunning) this.#zombies.add(attempt, attempt.handlerSettled, () => this.#scheduleFetch());
    }
  }

  #onStoreEvent(event: StoreEvent): void {
    if (event.type === 'wake') return this.#scheduleFetch();
    if (event.from !== 'Processing') return;
    const attempt = this.#running.get(event.jobId);
    if (!attempt || attempt.finishing) return;
    const reason = event.to === 'Deleted' ? 'deleted' : 'lost';
    attempt.cancel(
      new JobCancelledError(reason, `Job ${event.jobId} was ${reason === 'deleted' ? 'deleted' : 'moved to ' + event.to} while running`),
    );
  }

  /** Records the heartbeat (see `Heartbeat`); a failure is logged and retried at the next one. */
  async #beat(): Promise<void> {
    if (!this.#server) return;
    const now = new Date();
    this.#zombies.check(now.getTime());
    try {
      await this.#heartbeat.beat({ ...this.#server, heartbeatAt: now });
      this.#failures.succeeded('heartbeat', `Worker ${this.name} records its heartbeat again`);
    } catch (error) {
      this.#storeFailed('heartbeat', `Worker ${this.name} could not record its heartbeat; retrying`, error);
    }
  }

  /**
   * A claim or heartbeat failed: a passing failure (a database restart) is logged and retried at the
   * next poll or heartbeat. A store closed under the running worker never comes back: the worker
   * says so once and stops, rather than retrying (and keeping the process alive) forever.
   */
  #storeFailed(what: 'claim' | 'heartbeat', message: string, error: unknown): void {
    if (!(error instanceof StoreClosedError)) return this.#failures.failed(what, message, error);
    if (this.#status !== 'running') return;
    this.#logger.error(
      `Worker ${this.name} stops: its store was closed while the worker was running. Stop workers before closing their store (await worker.stop(), then store.close())`,
      { error },
    );
    this.#outcomeRetries.abort(); // nothing can be recorded any more: running jobs' leases will expire
    void this.stop();
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
}

export function createWorker(options: WorkerOptions): Worker {
  return new Worker(options);
}
