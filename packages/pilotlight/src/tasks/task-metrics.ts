import { diag, metrics, type Attributes, type Histogram, type MeterProvider, type UpDownCounter } from '@opentelemetry/api';
import { createDurationHistogram } from '../telemetry/instruments.ts';
import { METER_NAME, MetricAttributes, MetricNames } from '../telemetry/metric-names.ts';
import type { ResolvedMetricsOptions } from '../telemetry/metrics-options.ts';
import type { FinalTaskStatus } from './types.ts';

interface TaskInstruments {
  readonly running: UpDownCounter;
  readonly duration: Histogram;
}

/**
 * One set of instruments per meter provider, shared by every task manager recording to it: the SDK
 * would hand back the same streams anyway, this spares asking it again.
 */
const instrumentsByProvider = new WeakMap<MeterProvider, TaskInstruments>();

function instrumentsOf(provider: MeterProvider): TaskInstruments {
  let instruments = instrumentsByProvider.get(provider);
  if (instruments === undefined) {
    const meter = provider.getMeter(METER_NAME);
    instruments = {
      running: meter.createUpDownCounter(MetricNames.tasksRunning, {
        description: 'Tasks running now, by type: started, and their run() not settled yet',
        unit: '{task}',
      }),
      duration: createDurationHistogram(
        meter,
        MetricNames.taskDuration,
        'Duration of tasks, from Running to their final status; 0 for a task cancelled before it ran',
      ),
    };
    instrumentsByProvider.set(provider, instruments);
  }
  return instruments;
}

/**
 * The task manager's metrics (see `MetricNames.tasksRunning` and `MetricNames.taskDuration`), by
 * task type: never task ids or names, which would make a series per task.
 *
 * The instruments are created at the first recording, not with the manager: the API's global
 * `MeterProvider` is no proxy, so instruments taken from it before the SDK registers stay no-op for
 * good. A provider that throws is reported through `diag` and never fails a task.
 */
export class TaskMetrics {
  readonly #provider: MeterProvider | undefined;
  #instruments: TaskInstruments | undefined;

  constructor(options: ResolvedMetricsOptions) {
    this.#provider = options.meterProvider;
  }

  /** A task's `run()` is about to be called: it holds a slot. */
  runStarted(type: string): void {
    this.#record(MetricNames.tasksRunning, (instruments) => instruments.running.add(1, { [MetricAttributes.taskType]: type }));
  }

  /**
   * A task's `run()` settled, whatever its status: a task cancelled while running counts until then,
   * since its work (and its slot) really goes on until it honours its signal.
   */
  runEnded(type: string): void {
    this.#record(MetricNames.tasksRunning, (instruments) => instruments.running.add(-1, { [MetricAttributes.taskType]: type }));
  }

  /**
   * A task reached its final status after `durationMs` of execution (0 for a task cancelled before it
   * ran: recorded all the same, so that the histogram's count is every finished task by status).
   * `errorType` (a Failed task's error class name) becomes `error.type`.
   */
  finished(type: string, status: FinalTaskStatus, durationMs: number, errorType: string | undefined): void {
    const attributes: Attributes = { [MetricAttributes.taskType]: type, [MetricAttributes.taskStatus]: status };
    if (errorType !== undefined) attributes[MetricAttributes.errorType] = errorType;
    this.#record(MetricNames.taskDuration, (instruments) => instruments.duration.record(durationMs / 1000, attributes));
  }

  #record(instrument: string, record: (instruments: TaskInstruments) => void): void {
    try {
      this.#instruments ??= instrumentsOf(this.#provider ?? metrics.getMeterProvider());
      record(this.#instruments);
    } catch (error) {
      diag.error(`pilotlight: recording ${instrument} threw; the task goes on`, error);
    }
  }
}
