import type { Attributes, Histogram } from '@opentelemetry/api';
import { jobInstruments, type JobInstruments } from '../telemetry/instruments.ts';
import { MetricAttributes as A, StoreOperations, type StoreOperation } from '../telemetry/metric-names.ts';
import type { ResolvedMetricsOptions } from '../telemetry/metrics-options.ts';
import { MESSAGING_SYSTEM } from '../telemetry/names.ts';
import { observeWorker, type ObservedWorker } from '../telemetry/worker-gauges.ts';
import type { RecurringJobRecord } from '../types.ts';
import { toErrorDetails } from '../util/errors.ts';

/** The metrics a worker records itself (its filters record the attempts'). */
export interface WorkerMetrics {
  /** The worker runs: its slots and its store join the gauges. */
  start(): void;
  /** The worker has stopped: it leaves the gauges. Idempotent. */
  stop(): void;
  /** Runs a store round trip (`claim`, `commit`), recording its duration in `messaging.client.operation.duration`. */
  measure<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T>;
  /** A recurring job's occurrence due at `scheduledAt` was fired at `firedAt` (`pilotlight.recurring.lateness`). */
  occurrenceFired(recurring: RecurringJobRecord, scheduledAt: Date, firedAt: Date): void;
}

/** The worker's metrics, or, when they are disabled, nothing at all. */
export function createWorkerMetrics(options: ResolvedMetricsOptions, worker: ObservedWorker): WorkerMetrics {
  return options.enabled ? new RecordingWorkerMetrics(options, worker) : NO_METRICS;
}

const NO_METRICS: WorkerMetrics = {
  start() {},
  stop() {},
  measure: (_, call) => call(),
  occurrenceFired() {},
};

/** `messaging.operation.type` of each store operation. */
const OPERATION_TYPES: Readonly<Record<StoreOperation, string>> = { claim: 'receive', commit: 'settle' };

const OPERATION_ATTRIBUTES: Readonly<Record<StoreOperation, Attributes>> = {
  claim: operationAttributes(StoreOperations.claim),
  commit: operationAttributes(StoreOperations.commit),
};

function operationAttributes(operation: StoreOperation): Attributes {
  return { [A.system]: MESSAGING_SYSTEM, [A.operationName]: operation, [A.operationType]: OPERATION_TYPES[operation] };
}

class RecordingWorkerMetrics implements WorkerMetrics {
  readonly #options: ResolvedMetricsOptions;
  readonly #worker: ObservedWorker;
  #instruments: JobInstruments | undefined;
  #unobserve: (() => void) | undefined;

  constructor(options: ResolvedMetricsOptions, worker: ObservedWorker) {
    this.#options = options;
    this.#worker = worker;
  }

  start(): void {
    this.#unobserve ??= observeWorker(this.#get(), this.#worker);
  }

  stop(): void {
    this.#unobserve?.();
  }

  measure<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    const instruments = this.#get();
    // The no-op meter drops the duration: the store's own promise, no clock read nor extra promise.
    return instruments.recording ? timed(instruments.operationDuration, operation, call) : call();
  }

  occurrenceFired(recurring: RecurringJobRecord, scheduledAt: Date, firedAt: Date): void {
    const seconds = Math.max(0, firedAt.getTime() - scheduledAt.getTime()) / 1000;
    this.#get().recurringLateness.record(seconds, { [A.recurringId]: recurring.id, [A.destinationName]: recurring.queue });
  }

  /** The instruments, made when the worker starts (see `jobInstruments`). */
  #get(): JobInstruments {
    return (this.#instruments ??= jobInstruments(this.#options.meterProvider));
  }
}

/** Runs `call`, recording its duration in `histogram`, with `error.type` when it fails. */
async function timed<T>(histogram: Histogram, operation: StoreOperation, call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await call();
    histogram.record((performance.now() - started) / 1000, OPERATION_ATTRIBUTES[operation]);
    return result;
  } catch (error) {
    histogram.record((performance.now() - started) / 1000, {
      ...OPERATION_ATTRIBUTES[operation],
      [A.errorType]: toErrorDetails(error).type,
    });
    throw error;
  }
}
