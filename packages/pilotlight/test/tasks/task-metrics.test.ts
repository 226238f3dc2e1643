import { diag, DiagLogLevel, metrics, ValueType, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { createTaskManager, defineTask, type TaskContext, type TaskHandle, type TaskManagerOptions } from '../../src/tasks/index.ts';
import { DURATION_BUCKETS_SECONDS } from '../../src/telemetry/metric-names.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { waitFor } from '../support/helpers.ts';

/** A reader collected on demand: cumulative, so each collection shows everything recorded so far. */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A real SDK meter provider of its own (so each test starts from zero), and its pilotlight metrics read now. */
function sdk() {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  after(() => provider.shutdown());
  const collect = async (): Promise<MetricData[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);
    return resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === 'pilotlight').flatMap((scope) => scope.metrics);
  };
  return {
    provider,
    collect,
    /** `pilotlight.tasks.running`, or undefined if nothing was recorded. */
    running: async () =>
      (await collect()).find((metric) => metric.descriptor.name === 'pilotlight.tasks.running') as SumMetricData | undefined,
    /** `pilotlight.task.duration`, or undefined if nothing was recorded. */
    duration: async () =>
      (await collect()).find((metric) => metric.descriptor.name === 'pilotlight.task.duration') as HistogramMetricData | undefined,
  };
}

/** `pilotlight.tasks.running`'s points as `{ type: value }`. */
function runningByType(metric: SumMetricData | undefined): Record<string, number> {
  return Object.fromEntries((metric?.dataPoints ?? []).map((point) => [point.attributes['task.type'], point.value]));
}

/** What was recorded, without timestamps: names, then each point's attributes and value. */
function summary(collected: MetricData[]) {
  return collected.map((metric) => [metric.descriptor.name, metric.dataPoints.map((point) => [point.attributes, point.value])]);
}

/** A promise and the function that resolves it: what a scripted task waits for. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

interface Script {
  /** The task runs until this resolves (or its signal aborts: it honours cancellation). */
  readonly until: Promise<void>;
  /** Then throws this instead of returning. */
  readonly fail?: Error;
}

async function scripted(script: Script, { signal }: TaskContext): Promise<string> {
  await Promise.race([
    script.until,
    new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
  ]);
  if (script.fail) throw script.fail;
  return 'done';
}

const Scan = defineTask('MetadataScanTask', scripted);
const Thumbnails = defineTask('ThumbnailTask', scripted);
/** Ignores its signal: runs until `until` resolves, cancelled or not. */
const Stubborn = defineTask('StubbornTask', (until: Promise<void>) => until);
const never = new Promise<void>(() => undefined);
const silentDiag = {
  verbose: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function manager(options: Partial<TaskManagerOptions>) {
  return createTaskManager({ concurrency: 4, logger: silentLogger, ...options });
}

/** True once every handle is Running. */
const allRunning =
  (...handles: TaskHandle[]) =>
  () =>
    handles.every((handle) => handle.status === 'Running');

describe('pilotlight.tasks.running and pilotlight.task.duration', () => {
  it('a scripted run: names, units, descriptions, buckets, the exact attribute sets, concurrency by type, then every final status', async () => {
    const otel = sdk();
    const tasks = manager({ concurrencyPerType: { MetadataScanTask: 2 }, metrics: { meterProvider: otel.provider } });
    const release = gate();
    const failure = gate();
    const completed = tasks.start(Scan, { until: release.opened }, { name: 'Metadata library scan' });
    const failed = tasks.start(Scan, { until: failure.opened, fail: new TypeError("Cannot read properties of null (reading 'id')") });
    const cancelledRunning = tasks.start(Thumbnails, { until: never });
    const cancelledPending = tasks.start(Scan, { until: never }); // a third MetadataScanTask: waits for a slot
    await waitFor(allRunning(completed, failed, cancelledRunning), 'three tasks running');
    assert.equal(cancelledPending.status, 'Pending');

    // Mid-run: the pending task is not counted.
    const midRun = (await otel.running())!;
    // The SDK's descriptor also carries the instrument's type and advice (not in its declared type).
    assert.deepEqual(midRun.descriptor as unknown, {
      name: 'pilotlight.tasks.running',
      type: 'UP_DOWN_COUNTER',
      advice: {},
      description: 'Tasks running now, by type: started, and their run() not settled yet',
      unit: '{task}',
      valueType: ValueType.DOUBLE,
    });
    assert.equal(midRun.dataPointType, DataPointType.SUM);
    assert.equal(midRun.isMonotonic, false);
    for (const point of midRun.dataPoints) assert.deepEqual(Object.keys(point.attributes), ['task.type'], 'by task type only');
    assert.deepEqual(runningByType(midRun), { MetadataScanTask: 2, ThumbnailTask: 1 });
    assert.equal(await otel.duration(), undefined, 'no task has finished');

    assert.ok(cancelledPending.cancel('not needed'));
    release.open();
    failure.open();
    await Promise.allSettled([completed.result, failed.result]);
    assert.ok(cancelledRunning.cancel());
    await assert.rejects(cancelledRunning.result, { name: 'TaskCancelledError' });
    await assert.rejects(failed.result, TypeError);
    const ended = await waitFor(async () => {
      const metric = await otel.running();
      return Object.values(runningByType(metric)).every((value) => value === 0) ? metric : undefined;
    }, 'no task running');
    assert.deepEqual(runningByType(ended), { MetadataScanTask: 0, ThumbnailTask: 0 });

    const duration = (await otel.duration())!;
    assert.deepEqual(duration.descriptor as unknown, {
      name: 'pilotlight.task.duration',
      type: 'HISTOGRAM',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] },
      description: 'Duration of tasks, from Running to their final status; 0 for a task cancelled before it ran',
      unit: 's',
      valueType: ValueType.DOUBLE,
    });
    assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(duration.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    /** Seconds of execution, from the snapshot's milliseconds (the same clock readings). */
    const seconds = (handle: TaskHandle) => tasks.get(handle.id)!.durationMs! / 1000;
    const expected = [
      [{ 'task.type': 'MetadataScanTask', 'task.status': 'Completed' }, seconds(completed)],
      [{ 'task.type': 'MetadataScanTask', 'task.status': 'Failed', 'error.type': 'TypeError' }, seconds(failed)],
      [{ 'task.type': 'MetadataScanTask', 'task.status': 'Cancelled' }, 0], // cancelled before it ran
      [{ 'task.type': 'ThumbnailTask', 'task.status': 'Cancelled' }, seconds(cancelledRunning)],
    ] as const;
    assert.equal(duration.dataPoints.length, expected.length, 'one series per type and final status; no task id or name');
    for (const [attributes, value] of expected) {
      const what = JSON.stringify(attributes);
      const point = duration.dataPoints.find((candidate) => isDeepStrictEqual(candidate.attributes, attributes))?.value;
      assert.ok(point, `a series ${what}`);
      assert.deepEqual(point.buckets.boundaries, [...DURATION_BUCKETS_SECONDS], what);
      assert.equal(point.count, 1, what);
      assert.equal(point.sum, value, `${what}: seconds, as the snapshot's durationMs says`);
      assert.equal(point.min, value, what);
      // Upper bounds are inclusive; the last bucket (past the last boundary) is open.
      const bounds = [...DURATION_BUCKETS_SECONDS, Infinity];
      const bucket = bounds.findIndex((boundary) => value <= boundary);
      assert.deepEqual(
        point.buckets.counts,
        bounds.map((_, i) => (i === bucket ? 1 : 0)),
        what,
      );
    }
    assert.ok(seconds(completed) > 0 && seconds(cancelledRunning) > 0, 'the tasks that ran have a duration');
  });

  it('a task cancelled before it ran (queued in a free slot) never counts as running, and its duration is 0', async () => {
    const otel = sdk();
    const tasks = manager({ metrics: { meterProvider: otel.provider } });
    const handle = tasks.start(Scan, { until: never });
    assert.ok(handle.cancel()); // before the microtask that would have run it
    await assert.rejects(handle.result, { name: 'TaskCancelledError' });
    await tasks.shutdown();
    assert.equal(await otel.running(), undefined, 'no +1 (nor -1) was ever recorded');
    const [point] = (await otel.duration())!.dataPoints;
    assert.deepEqual(point!.attributes, { 'task.type': 'MetadataScanTask', 'task.status': 'Cancelled' });
    assert.deepEqual([point!.value.count, point!.value.sum], [1, 0]);
  });

  it('a cancelled task that ignores its signal is Cancelled (duration recorded) but counts as running until its run() settles', async () => {
    const otel = sdk();
    const tasks = manager({ metrics: { meterProvider: otel.provider } });
    const release = gate();
    const handle = tasks.start(Stubborn, release.opened);
    await waitFor(allRunning(handle), 'the task running');
    assert.ok(handle.cancel());
    assert.equal(handle.status, 'Cancelled');
    assert.deepEqual(runningByType(await otel.running()), { StubbornTask: 1 }, 'its work and its slot go on');
    const [point] = (await otel.duration())!.dataPoints;
    assert.deepEqual(point!.attributes, { 'task.type': 'StubbornTask', 'task.status': 'Cancelled' });
    assert.equal(point!.value.sum, tasks.get(handle.id)!.durationMs! / 1000);
    release.open();
    await waitFor(async () => runningByType(await otel.running()).StubbornTask === 0, 'its run() to settle');
    assert.equal((await otel.duration())!.dataPoints[0]!.value.count, 1, 'recorded once');
  });

  it('a meter provider that throws never fails a task; diag reports it', async () => {
    const reported: string[] = [];
    const broken: ApiMeterProvider = {
      getMeter: () => {
        throw new Error('meter provider down');
      },
    };
    const tasks = manager({ metrics: { meterProvider: broken } });
    diag.setLogger({ ...silentDiag, error: (message: string) => void reported.push(message) }, DiagLogLevel.ERROR);
    try {
      assert.equal(await tasks.start(Scan, { until: Promise.resolve() }).result, 'done');
      await assert.rejects(tasks.start(Scan, { until: Promise.resolve(), fail: new RangeError('bad page') }).result, RangeError);
      await tasks.shutdown();
    } finally {
      diag.disable();
    }
    assert.ok(reported.length > 0);
    for (const name of ['pilotlight.tasks.running', 'pilotlight.task.duration']) {
      assert.ok(reported.includes(`pilotlight: recording ${name} threw; the task goes on`), `${name} in ${JSON.stringify(reported)}`);
    }
  });
});

describe('with the SDK registered globally', () => {
  const otel = sdk();
  const createdBeforeTheSdk = manager({});
  before(() => assert.ok(metrics.setGlobalMeterProvider(otel.provider)));
  after(() => metrics.disable());

  it("the default records on the global meter provider, registered after the manager's creation but before its first task", async () => {
    const tasks = createdBeforeTheSdk;
    await tasks.start(Scan, { until: Promise.resolve() }).result;
    await tasks.shutdown();
    const [point] = (await otel.duration())!.dataPoints;
    assert.deepEqual(point!.attributes, { 'task.type': 'MetadataScanTask', 'task.status': 'Completed' });
    assert.deepEqual(runningByType(await otel.running()), { MetadataScanTask: 0 });
  });

  it('disabled: nothing is recorded, and no meter is ever asked for', async () => {
    let meters = 0;
    const counting: ApiMeterProvider = { getMeter: (...args) => (meters++, otel.provider.getMeter(...args)) };
    const before = summary(await otel.collect());
    for (const options of [{ enabled: false }, { enabled: false, meterProvider: counting }]) {
      const tasks = manager({ metrics: options });
      const release = gate();
      const handles = [
        tasks.start(Thumbnails, { until: release.opened }),
        tasks.start(Thumbnails, { until: release.opened, fail: new Error('no disk') }),
        tasks.start(Thumbnails, { until: never }),
      ];
      await waitFor(allRunning(...handles), 'three tasks running');
      handles[2]!.cancel();
      release.open();
      await Promise.allSettled(handles.map((handle) => handle.result));
      await tasks.shutdown();
    }
    assert.equal(meters, 0);
    assert.deepEqual(summary(await otel.collect()), before, 'no ThumbnailTask series, on the global provider or the given one');
  });
});
