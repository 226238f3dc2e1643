import { diag, type Attributes, type BatchObservableCallback, type BatchObservableResult } from '@opentelemetry/api';
import { DEFAULTS } from '../config/defaults.ts';
import type { Store } from '../storage/store.ts';
import type { StateName } from '../types.ts';
import type { JobInstruments } from './instruments.ts';
import { MetricAttributes as A } from './metric-names.ts';
import { readStoreFigures, type StoreFigures } from './store-figures.ts';

/** What the gauges read of a running worker. */
export interface ObservedWorker {
  readonly store: Store<unknown>;
  readonly concurrency: number;
  /** Concurrency slots in use now, zombies included (`worker.stats.running`). */
  busy(): number;
}

/** The states `pilotlight.jobs` reports: every unfinished one. */
const UNFINISHED: readonly StateName[] = ['Enqueued', 'Scheduled', 'Awaiting', 'Processing'];

const SLOTS = new WeakMap<JobInstruments, SlotGauges>();
const STORES = new WeakMap<JobInstruments, Map<Store<unknown>, StoreGauges>>();

/**
 * Adds a running worker to the gauges of `instruments`: its slots to `pilotlight.worker.busy` and
 * `.capacity` (summed over the process's running workers), and its store to the store-wide gauges
 * (`pilotlight.jobs`, `pilotlight.queue.lag`, `pilotlight.workers`), which read each store once
 * per collection whatever the number of workers on it. Returns the function that removes the
 * worker again (call it when the worker stops).
 */
export function observeWorker(instruments: JobInstruments, worker: ObservedWorker): () => void {
  let slots = SLOTS.get(instruments);
  if (slots === undefined) SLOTS.set(instruments, (slots = new SlotGauges(instruments)));
  slots.workers.add(worker);
  let stores = STORES.get(instruments);
  if (stores === undefined) STORES.set(instruments, (stores = new Map()));
  let gauges = stores.get(worker.store);
  if (gauges === undefined) {
    const store = worker.store;
    stores.set(store, (gauges = new StoreGauges(instruments, store, () => stores.delete(store))));
  }
  gauges.acquire();
  let observed = true;
  return () => {
    if (!observed) return;
    observed = false;
    slots.workers.delete(worker);
    gauges.release();
  };
}

/**
 * The slot gauges of one meter. Registered with the first worker and kept: once the last worker
 * has stopped they report 0, where a series no longer observed would keep its last value with
 * cumulative temporality.
 */
class SlotGauges {
  readonly workers = new Set<ObservedWorker>();

  constructor(instruments: JobInstruments) {
    const { workerBusy, workerCapacity } = instruments;
    instruments.meter.addBatchObservableCallback(
      (observer) => {
        let busy = 0;
        let capacity = 0;
        for (const worker of this.workers) {
          busy += worker.busy();
          capacity += worker.concurrency;
        }
        observer.observe(workerBusy, busy);
        observer.observe(workerCapacity, capacity);
      },
      [workerBusy, workerCapacity],
    );
  }
}

/** The attribute sets of one queue's series, made once. */
interface QueueSeries {
  readonly queue: Attributes;
  readonly states: readonly (readonly [StateName, Attributes])[];
}

/**
 * The store-wide gauges of one (store, meter): one batch callback, registered while at least one
 * worker on the store runs, over one cached read shared by every metric reader (see `CachedRead`).
 */
class StoreGauges {
  readonly #instruments: JobInstruments;
  readonly #read: CachedRead;
  readonly #onUnused: () => void;
  /** Every queue reported so far: one that empties (and leaves `queueStats()`) is reported at 0, not frozen. */
  readonly #series = new Map<string, QueueSeries>();
  readonly #callback: BatchObservableCallback = (observer) => this.#observe(observer);
  #workers = 0;

  constructor(instruments: JobInstruments, store: Store<unknown>, onUnused: () => void) {
    this.#instruments = instruments;
    this.#read = new CachedRead(store);
    this.#onUnused = onUnused;
  }

  acquire(): void {
    if (this.#workers++ === 0) this.#instruments.meter.addBatchObservableCallback(this.#callback, this.#observables());
  }

  release(): void {
    if (--this.#workers > 0) return;
    this.#instruments.meter.removeBatchObservableCallback(this.#callback, this.#observables());
    this.#onUnused();
  }

  #observables() {
    const { jobs, queueLag, workersAlive } = this.#instruments;
    return [jobs, queueLag, workersAlive];
  }

  async #observe(observer: BatchObservableResult): Promise<void> {
    const figures = await this.#read.get();
    if (figures === undefined) return; // the read failed (and said so): nothing this collection
    const { jobs, queueLag, workersAlive } = this.#instruments;
    const current = new Map(figures.queues.map((queue) => [queue.queue, queue]));
    for (const queue of current.keys()) if (!this.#series.has(queue)) this.#series.set(queue, queueSeries(queue));
    for (const [name, series] of this.#series) {
      const stats = current.get(name);
      for (const [state, attributes] of series.states) observer.observe(jobs, stats?.counts[state] ?? 0, attributes);
      observer.observe(queueLag, stats?.lagSeconds ?? 0, series.queue);
    }
    observer.observe(workersAlive, figures.workersAlive);
  }
}

function queueSeries(queue: string): QueueSeries {
  return {
    queue: { [A.destinationName]: queue },
    states: UNFINISHED.map((state) => [state, { [A.destinationName]: queue, [A.state]: state }] as const),
  };
}

/**
 * One store read shared by every collection within `DEFAULTS.metrics.storeReadCacheMs`, and by
 * collections running at once (two metric readers): the store sees about one read a second per
 * process, whatever the readers and workers. A failed read is said once per streak of failures
 * (`diag.warn`) and gives nothing; it is not cached, so the next collection tries again.
 */
class CachedRead {
  readonly #store: Store<unknown>;
  #figures: StoreFigures | undefined;
  #readAt = 0;
  #pending: Promise<StoreFigures | undefined> | undefined;
  #failing = false;

  constructor(store: Store<unknown>) {
    this.#store = store;
  }

  get(): Promise<StoreFigures | undefined> {
    if (this.#figures !== undefined && performance.now() - this.#readAt < DEFAULTS.metrics.storeReadCacheMs) {
      return Promise.resolve(this.#figures);
    }
    return (this.#pending ??= this.#readNow());
  }

  async #readNow(): Promise<StoreFigures | undefined> {
    try {
      const figures = await readStoreFigures(this.#store, new Date());
      this.#figures = figures;
      this.#readAt = performance.now();
      this.#failing = false;
      return figures;
    } catch (error) {
      if (!this.#failing) {
        diag.warn('pilotlight: the metrics gauges could not read the store; they report nothing until a read succeeds', error);
      }
      this.#failing = true;
      return undefined;
    } finally {
      this.#pending = undefined;
    }
  }
}
