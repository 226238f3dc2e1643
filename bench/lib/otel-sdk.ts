import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  type ExportResult,
} from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

/**
 * The real OpenTelemetry SDK for the tracing bench, as an application would set it up, minus the
 * network: every span is sampled, recorded and batched, then handed to an exporter that drops it;
 * metrics are aggregated and collected periodically, then handed to an exporter that drops them.
 */

/** Accepts every batch and drops it; counts the spans, so the bench can check what was traced. */
export class DroppingSpanExporter implements SpanExporter {
  exported = 0;

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.exported += spans.length;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TracingSdk {
  readonly provider: TracerProvider;
  /** Spans exported (and dropped) so far; call `flush()` first for an exact count. */
  exported(): number;
  /** Exports every finished span still in the batch processor's queue. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Registers globally, once per process (globals cannot be unregistered reliably): a `TracerProvider`
 * (sdk-trace v3's name for the former `BasicTracerProvider`) with a `BatchSpanProcessor` (default
 * settings: 512 per batch, queue of 2,048) around a {@link DroppingSpanExporter}, the
 * `AsyncLocalStorageContextManager`, and the W3C trace-context and baggage propagators.
 */
export function registerTracingSdk(): TracingSdk {
  const exporter = new DroppingSpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  return {
    provider,
    exported: () => exporter.exported,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Accepts every export and drops it (cumulative temporality, the SDK's default); remembers each sum
 * instrument's total in the last one, so the bench can check that the instruments recorded every job.
 */
export class DroppingMetricExporter implements PushMetricExporter {
  exports = 0;
  readonly sums = new Map<string, number>();

  export(resourceMetrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.exports++;
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.dataPointType !== DataPointType.SUM) continue;
        this.sums.set(
          metric.descriptor.name,
          metric.dataPoints.reduce((sum, point) => sum + point.value, 0),
        );
      }
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface MetricsSdk {
  readonly provider: MeterProvider;
  /** The total of a sum instrument (a counter) as of the last export, cumulative since the process started; `flush()` first. */
  sum(instrument: string): number;
  /** Exports so far (one a second, plus one per `flush()`). */
  exports(): number;
  /** Collects and exports now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** How often the metrics SDK collects and exports: a short interval, so the bench's runs include several collections. */
export const METRIC_EXPORT_INTERVAL_MS = 1_000;

/**
 * Registers globally, once per process: a `MeterProvider` with a `PeriodicExportingMetricReader`
 * collecting every {@link METRIC_EXPORT_INTERVAL_MS} into a {@link DroppingMetricExporter}, as an
 * application exporting OTLP metrics would (`OTEL_METRIC_EXPORT_INTERVAL`, 60 s by default: this
 * collects 60 times as often, so the collections' cost shows).
 */
export function registerMetricsSdk(): MetricsSdk {
  const exporter = new DroppingMetricExporter();
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: METRIC_EXPORT_INTERVAL_MS,
    exportTimeoutMillis: METRIC_EXPORT_INTERVAL_MS,
  });
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  return {
    provider,
    sum: (instrument) => exporter.sums.get(instrument) ?? 0,
    exports: () => exporter.exports,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** `api 1.10.0, sdk-trace 3.1.1, ...`: the installed OpenTelemetry packages the bench uses. */
export function otelVersions(): string {
  const packages = ['api', 'sdk-trace', 'sdk-metrics', 'context-async-hooks', 'core'];
  return packages.map((name) => `${name} ${packageVersion(`@opentelemetry/${name}`)}`).join(', ');
}

function packageVersion(specifier: string): string {
  try {
    // The entry point's nearest package.json of that name (package.json itself is not in the exports map).
    let dir = dirname(fileURLToPath(import.meta.resolve(specifier)));
    for (;;) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (manifest.name === specifier) return manifest.version ?? '?';
      } catch {
        // no package.json here
      }
      const parent = dirname(dir);
      if (parent === dir) return '?';
      dir = parent;
    }
  } catch {
    return 'not installed';
  }
}
