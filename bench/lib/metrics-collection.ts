import { DataPointType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createWorker, readStoreFigures, silentLogger, type Store } from '../../packages/pilotlight/src/index.ts';
import { DEFAULTS } from '../../packages/pilotlight/src/config/defaults.ts';
import { MetricAttributes, MetricNames } from '../../packages/pilotlight/src/semconv.ts';
import { sleep } from './clock.ts';
import { noopJob } from './jobs.ts';

/**
 * The two timed paths of the metrics gauges bench (`bench/metrics-gauges.ts`): the store read behind
 * the store-wide gauges on its own, and a whole collection through the OpenTelemetry SDK.
 */

/** How long a timed collection waits after the previous one: past the gauges' cached read (`DEFAULTS.metrics.storeReadCacheMs`). */
export const CACHE_EXPIRY_WAIT_MS = DEFAULTS.metrics.storeReadCacheMs + 50;

/** A metric reader collected by hand, as a pull exporter (Prometheus) collects on each scrape. */
export class OnDemandMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** `store`, counting its `queueStats()` calls: the bench checks that each timed collection read the store once. */
function countingQueueStats(store: Store): { readonly store: Store; reads(): number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === 'queueStats') {
        return () => {
          reads++;
          return target.queueStats();
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      // The store's methods use its private fields: call them on the store itself.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, reads: () => reads };
}

/**
 * `count` calls of `readStoreFigures(store, now)`, one after the other, after `warmup` untimed ones:
 * the store reads of one collection (`queueStats()` and `listServers()`), without the gauges' cache.
 */
export async function timeStoreReads(store: Store, count: number, warmup: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const started = performance.now();
    await readStoreFigures(store, new Date());
    const elapsed = performance.now() - started;
    if (i >= warmup) times.push(elapsed);
  }
  return times;
}

export interface CollectionTimes {
  /** Duration of each timed `collect()`, ms. */
  readonly times: readonly number[];
  /** `pilotlight.jobs` of the last collection, summed per state over the queues. */
  readonly jobsByState: ReadonlyMap<string, number>;
  /** `pilotlight.workers` of the last collection. */
  readonly workersAlive: number;
}

/**
 * `count` whole collections through the SDK: a `MeterProvider` with an {@link OnDemandMetricReader},
 * a worker started on `store` with that provider (`metrics.meterProvider`), which registers the
 * store-wide gauges as in production, then `reader.collect()` timed. Each timed collection comes
 * more than `DEFAULTS.metrics.storeReadCacheMs` after the previous one ended, so that the gauges'
 * cached read has expired and the collection reads the store: checked (exactly one `queueStats()`
 * call per timed collection), or the bench stops. The worker serves a queue no seeded job is in, so
 * it runs no job; its maintenance and heartbeats run as on a live worker. `beforeEach` runs untimed
 * before each collection's wait.
 */
export async function timeCollections(
  store: Store,
  count: number,
  warmup: number,
  beforeEach: () => Promise<void>,
): Promise<CollectionTimes> {
  const reader = new OnDemandMetricReader();
  const provider = new MeterProvider({ readers: [reader] });
  const counted = countingQueueStats(store);
  const worker = createWorker({
    store: counted.store,
    jobs: [noopJob],
    queues: ['bench-metrics-idle'],
    logger: silentLogger,
    metrics: { meterProvider: provider },
  });
  await worker.start();
  const times: number[] = [];
  let last: ResourceMetrics | undefined;
  try {
    for (let i = 0; i < warmup + count; i++) {
      await beforeEach();
      await sleep(CACHE_EXPIRY_WAIT_MS);
      const readsBefore = counted.reads();
      const started = performance.now();
      const { resourceMetrics, errors } = await reader.collect();
      const elapsed = performance.now() - started;
      if (errors.length > 0) throw new Error(`collect() reported errors: ${errors.map(String).join('; ')}`);
      const reads = counted.reads() - readsBefore;
      if (reads !== 1)
        throw new Error(`a timed collection read queueStats() ${reads} times instead of once: the gauges' cache was not missed`);
      if (i >= warmup) times.push(elapsed);
      last = resourceMetrics;
    }
  } finally {
    await worker.stop();
    await provider.shutdown();
  }
  return { times, ...storeGaugeValues(last) };
}

/** The store-wide gauges' values in a collection, to print beside the timings. */
function storeGaugeValues(resourceMetrics: ResourceMetrics | undefined): Omit<CollectionTimes, 'times'> {
  const jobsByState = new Map<string, number>();
  let workersAlive = Number.NaN;
  for (const scope of resourceMetrics?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.dataPointType !== DataPointType.SUM) continue;
      if (metric.descriptor.name === MetricNames.jobs) {
        for (const point of metric.dataPoints) {
          const state = String(point.attributes[MetricAttributes.state]);
          jobsByState.set(state, (jobsByState.get(state) ?? 0) + point.value);
        }
      } else if (metric.descriptor.name === MetricNames.workersAlive) {
        workersAlive = metric.dataPoints.reduce((sum, point) => sum + point.value, 0);
      }
    }
  }
  return { jobsByState, workersAlive };
}
