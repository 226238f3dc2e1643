import { JobCancelledError } from '../errors.ts';
import type { StateMachine } from '../states/state-machine.ts';
import type { Store } from '../storage/store.ts';
import type { ServerRecord } from '../types.ts';
import type { Logger } from '../util/logger.ts';
import type { RunningAttempt } from './attempt.ts';

/** What the heartbeat needs from its worker. */
export interface HeartbeatDeps {
  readonly store: Store;
  readonly states: StateMachine;
  readonly logger: Logger;
  readonly workerName: string;
  readonly leaseDuration: number;
  /** Every job the worker holds: running, or (prefetched) waiting for a slot. */
  readonly running: ReadonlyMap<string, RunningAttempt>;
  /** Whether a claim is under way now. */
  readonly claiming: () => boolean;
  /** Changes whenever a claim starts or ends: tells whether a claim ran during some store call. */
  readonly claimEpoch: () => number;
}

/**
 * A worker's heartbeat: records it, renews the leases of the jobs the worker holds, aborts the jobs
 * it runs but no longer holds (deleted, or taken by another worker), and hands back the jobs it holds
 * without running them.
 */
export class Heartbeat {
  readonly #deps: HeartbeatDeps;
  /** Ids the last heartbeat found held by this worker in the store but not running here. */
  #strays = new Set<string>();

  constructor(deps: HeartbeatDeps) {
    this.#deps = deps;
  }

  /**
   * Records `server` (its `heartbeatAt` being now), renews leases, and aborts jobs this worker no
   * longer holds. Rejects when the store fails: the next heartbeat retries.
   */
  async beat(server: ServerRecord): Promise<void> {
    const { store, running, claiming, claimEpoch, workerName } = this.#deps;
    const before = [...running.values()];
    const epoch = claimEpoch();
    const claimingBefore = claiming();
    const held = new Set(await store.heartbeat(server, new Date(server.heartbeatAt.getTime() + this.#deps.leaseDuration)));
    // Jobs held in this worker's name that it does not run: a claim committed although its reply
    // was lost (the connection broke after COMMIT). The heartbeat would renew their leases
    // forever; hand them back. Only when no claim ran meanwhile (its jobs are not running yet),
    // and seen at two heartbeats in a row (a job finishing now is seen once).
    if (!claimingBefore && !claiming() && epoch === claimEpoch()) {
      const strays = [...held].filter((id) => !running.has(id));
      for (const id of strays) if (this.#strays.has(id)) await this.#handBackStray(id);
      this.#strays = new Set(strays);
    }
    for (const attempt of before) {
      if (held.has(attempt.job.id) || attempt.finishing || running.get(attempt.job.id) !== attempt) continue;
      const current = await store.getJob(attempt.job.id);
      const reason = current?.state === 'Deleted' ? 'deleted' : 'lost';
      attempt.cancel(
        new JobCancelledError(reason, `Job ${attempt.job.id} is no longer held by worker ${workerName} (now ${current?.state ?? 'gone'})`),
      );
    }
  }

  /** Hands back job `id` if it is still held by this worker in the store and still not running here. */
  async #handBackStray(id: string): Promise<void> {
    const { store, states, logger, running, claiming, claimEpoch, workerName } = this.#deps;
    const epoch = claimEpoch();
    const job = await store.getJob(id); // (a failure is the heartbeat's: retried at the next one)
    if (job?.state !== 'Processing' || job.serverName !== workerName) return;
    if (running.has(id) || claiming() || epoch !== claimEpoch()) return; // claimed meanwhile
    logger.warn(`Worker ${workerName} holds job ${id} (attempt ${job.attempt}) without running it; handing it back`);
    // Guarded by state, attempt and worker: a no-op if the job moved on meanwhile. It never started
    // here, so it gets its attempt back.
    const reason = `Worker ${workerName} held it without running it (a claim whose reply was lost); job handed back`;
    try {
      await states.change(job, { name: 'Enqueued', reason }, { expectServer: workerName, attempt: job.attempt - 1 });
    } catch (error) {
      logger.error(`Worker ${workerName} could not hand back job ${id}; retrying at the next heartbeat`, { error });
    }
  }
}
