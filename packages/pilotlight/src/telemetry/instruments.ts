import {
  createNoopMeter,
  metrics,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type ObservableGauge,
  type ObservableUpDownCounter,
} from '@opentelemetry/api';
import { DURATION_BUCKETS_SECONDS, METER_NAME, MetricNames } from './metric-names.ts';

/** Every instrument of Pilotlight's job metrics, made once per meter provider. */
export interface JobInstruments {
  readonly meter: Meter;
  /**
   * False when `meter` is the API's no-op meter (no `MeterProvider` registered when the instruments
   * were made): every recording would be dropped, so callers skip the work of computing it (clock
   * reads, attribute lookups, an extra promise per store round trip) and a job costs what it costs
   * with metrics disabled.
   */
  readonly recording: boolean;
  readonly sentMessages: Counter;
  readonly consumedMessages: Counter;
  readonly processDuration: Histogram;
  readonly operationDuration: Histogram;
  readonly queueWait: Histogram;
  readonly attemptOutcomes: Counter;
  readonly recurringLateness: Histogram;
  readonly workerBusy: ObservableUpDownCounter;
  readonly workerCapacity: ObservableUpDownCounter;
  readonly jobs: ObservableUpDownCounter;
  readonly queueLag: ObservableGauge;
  readonly workersAlive: ObservableUpDownCounter;
}

const BY_PROVIDER = new WeakMap<MeterProvider, JobInstruments>();

/**
 * The job instruments of `provider` (the global one when undefined), made on the first call for
 * that provider and shared by every client and worker using it. Call it when the instruments are
 * first needed, not before: the API's global provider is no proxy, so instruments made while none is
 * registered stay no-ops even after an SDK registers one (a later call then makes real ones).
 */
export function jobInstruments(provider: MeterProvider | undefined): JobInstruments {
  const resolved = provider ?? metrics.getMeterProvider();
  let instruments = BY_PROVIDER.get(resolved);
  if (instruments === undefined) BY_PROVIDER.set(resolved, (instruments = createInstruments(resolved.getMeter(METER_NAME))));
  return instruments;
}

/** A duration histogram in seconds with Pilotlight's hour-long buckets (`DURATION_BUCKETS_SECONDS`), for jobs and tasks alike. */
export function createDurationHistogram(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] } });
}

function createInstruments(meter: Meter): JobInstruments {
  const duration = (name: string, description: string): Histogram => createDurationHistogram(meter, name, description);
  return {
    meter,
    // The API's no-op meter is one shared instance (`createNoopMeter()` returns it): an SDK's never is.
    recording: meter !== createNoopMeter(),
    sentMessages: meter.createCounter(MetricNames.sentMessages, {
      description: 'Jobs created (enqueued, scheduled, continuations, recurring occurrences); deduplicated enqueues not counted',
      unit: '{message}',
    }),
    consumedMessages: meter.createCounter(MetricNames.consumedMessages, { description: 'Job attempts started', unit: '{message}' }),
    processDuration: duration(MetricNames.processDuration, 'Duration of job attempts, from their Processing state to their outcome'),
    operationDuration: duration(
      MetricNames.operationDuration,
      "Duration of a worker's store round trips: claiming jobs, and committing attempts' outcomes",
    ),
    queueWait: duration(MetricNames.queueWait, 'Time from a job becoming due to its attempt starting'),
    attemptOutcomes: meter.createCounter(MetricNames.attemptOutcomes, { description: 'Job attempts ended, by outcome', unit: '{attempt}' }),
    recurringLateness: duration(MetricNames.recurringLateness, "Delay from a recurring occurrence's scheduled time to its firing"),
    workerBusy: meter.createObservableUpDownCounter(MetricNames.workerBusy, {
      description: "Concurrency slots in use by this process's workers",
      unit: '{slot}',
    }),
    workerCapacity: meter.createObservableUpDownCounter(MetricNames.workerCapacity, {
      description: "Concurrency slots of this process's running workers",
      unit: '{slot}',
    }),
    jobs: meter.createObservableUpDownCounter(MetricNames.jobs, {
      description: 'Unfinished jobs in the store, by queue and state',
      unit: '{job}',
    }),
    queueLag: meter.createObservableGauge(MetricNames.queueLag, {
      description: "Age of each queue's oldest waiting job since it became due; 0 when none waits",
      unit: 's',
    }),
    workersAlive: meter.createObservableUpDownCounter(MetricNames.workersAlive, {
      description: 'Workers of the store whose heartbeat is recent',
      unit: '{worker}',
    }),
  };
}
