import type { QueueSettings, QueueSettingsChange, Store } from '../storage/store.ts';
import { validateQueueConcurrencyLimit, validateQueueRateLimit, type QueueRateLimit } from '../validation/flow-control.ts';
import { validateQueueName } from '../validation/validate.ts';

/** A queue's settings as the client reads them; a queue with nothing stored is running, without limits. */
export interface QueueSettingsView extends Omit<QueueSettings, 'updatedAt'> {
  /** When they were last changed; undefined for a queue whose settings were never set. */
  readonly updatedAt: Date | undefined;
}

/**
 * `client.queues`: pause and resume queues, and limit them, for every worker sharing the store (the
 * store enforces it when workers claim jobs, so a change applies to every process at its next claim).
 *
 * ```ts
 * await client.queues.pause('emails');               // running jobs finish; no new one starts
 * await client.queues.resume('emails');              // workers wake and start again
 * await client.queues.setConcurrencyLimit('reports', 2);           // at most 2 running at once
 * await client.queues.setRateLimit('webhooks', { max: 100, per: 60_000 }); // 100 starts a minute
 * ```
 */
export class QueueControl {
  readonly #store: Store<any>;

  constructor(store: Store<any>) {
    this.#store = store;
  }

  /** No worker starts a job of the queue until it is resumed (jobs already running go on). */
  pause(queue: string): Promise<QueueSettingsView> {
    return this.#set('pause', queue, { paused: true });
  }

  /** Workers start the queue's jobs again; idle workers of this process wake at once, others at their next poll or wake-up. */
  resume(queue: string): Promise<QueueSettingsView> {
    return this.#set('resume', queue, { paused: false });
  }

  /** At most `limit` (1 to 10000) jobs of the queue run at once across every worker; `null` removes the limit. */
  setConcurrencyLimit(queue: string, limit: number | null): Promise<QueueSettingsView> {
    return this.#set('setConcurrencyLimit', queue, {
      concurrencyLimit: validateQueueConcurrencyLimit(limit, 'queues.setConcurrencyLimit() limit'),
    });
  }

  /**
   * At most `max` (1 to 1000000) jobs of the queue start per `per` ms (1 to 86400000, a day) across
   * every worker, in fixed windows opened by the first start; `null` removes the limit.
   */
  setRateLimit(queue: string, limit: QueueRateLimit | null): Promise<QueueSettingsView> {
    return this.#set('setRateLimit', queue, {
      rateLimit: limit === null ? null : validateQueueRateLimit(limit, 'queues.setRateLimit() limit'),
    });
  }

  /** The queue's settings (paused false and no limits when none were ever set). */
  async get(queue: string): Promise<QueueSettingsView> {
    validateQueueName(queue, 'queues.get() queue');
    const stored = (await this.#store.listQueueSettings()).find((settings) => settings.queue === queue);
    return stored ?? { queue, paused: false, concurrencyLimit: undefined, rateLimit: undefined, updatedAt: undefined };
  }

  /** Every queue whose settings were set, by name (queues never paused nor limited are not listed). */
  list(): Promise<QueueSettings[]> {
    return this.#store.listQueueSettings();
  }

  #set(api: string, queue: string, change: QueueSettingsChange): Promise<QueueSettings> {
    return this.#store.setQueueSettings(validateQueueName(queue, `queues.${api}() queue`), change);
  }
}
