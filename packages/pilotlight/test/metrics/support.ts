import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import { after } from 'node:test';
import { METER_NAME } from '../../src/semconv.ts';

/** A metric reader the test collects from when it wants (the SDK's cumulative default). */
export class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  /** The `pilotlight` meter's metrics now, by name. */
  async pilotlight(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'the collection failed');
    return pilotlightMetrics(resourceMetrics);
  }
}

/** A real SDK meter provider with `readers` test readers, shut down after the test file. */
export function testMeterProvider(readers = 1): { provider: MeterProvider; readers: TestReader[] } {
  const list = Array.from({ length: readers }, () => new TestReader());
  const provider = new MeterProvider({ readers: list });
  after(() => provider.shutdown());
  return { provider, readers: list };
}

export function pilotlightMetrics(resourceMetrics: ResourceMetrics): Map<string, MetricData> {
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    if (scope.scope.name !== METER_NAME) continue;
    for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
  }
  return byName;
}

/** An attribute set as one comparable string: its entries sorted by key. */
export function key(attributes: Attributes): string {
  return JSON.stringify(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)));
}

/** A sum's or gauge's values by attribute set. */
export function values(metric: MetricData | undefined): Map<string, number> {
  const result = new Map<string, number>();
  for (const point of (metric?.dataPoints ?? []) as DataPoint<number>[]) result.set(key(point.attributes), point.value);
  return result;
}

/** A histogram's data points by attribute set. */
export function histograms(metric: MetricData | undefined): Map<string, Histogram> {
  const result = new Map<string, Histogram>();
  for (const point of (metric?.dataPoints ?? []) as DataPoint<Histogram>[]) result.set(key(point.attributes), point.value);
  return result;
}

/** A histogram's counts by attribute set. */
export function counts(metric: MetricData | undefined): Map<string, number> {
  return new Map([...histograms(metric)].map(([attributes, histogram]) => [attributes, histogram.count]));
}

/** `entries` as `values()` returns them, for `deepEqual`. */
export function expected(entries: readonly (readonly [Attributes, number])[]): Map<string, number> {
  return new Map(entries.map(([attributes, value]) => [key(attributes), value]));
}
