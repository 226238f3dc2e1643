/**
 * The metric readers of OTEL_METRICS_EXPORTER, built as the Node SDK builds them from the
 * environment (`getMetricReadersFromEnv` of `@opentelemetry/sdk-node`), except `prometheus`, which
 * is `PilotlightPrometheusExporter` (see prometheus-exporter.ts):
 *
 * - a comma-separated list, duplicates ignored; unset or empty: `otlp`; `none` anywhere: no reader;
 * - `otlp`: a PeriodicExportingMetricReader (OTEL_METRIC_EXPORT_INTERVAL, 60 s, and
 *   OTEL_METRIC_EXPORT_TIMEOUT, 30 s, clamped to the interval) with the OTLP metric exporter of
 *   OTEL_EXPORTER_OTLP_METRICS_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL (default http/protobuf);
 * - `console`: a PeriodicExportingMetricReader with the ConsoleMetricExporter, at the SDK's defaults;
 * - `prometheus`: served on OTEL_EXPORTER_PROMETHEUS_HOST (default localhost) and
 *   OTEL_EXPORTER_PROMETHEUS_PORT (default 9464), at /metrics;
 * - any other value: a warning, ignored.
 */
import { diag } from '@opentelemetry/api';
import { getNumberFromEnv, getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { OTLPMetricExporter as OTLPGrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  ConsoleMetricExporter,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { otlpExporterFor } from '../otlp-protocol.ts';
import { PilotlightPrometheusExporter } from './prometheus-exporter.ts';

const DEFAULT_EXPORT_INTERVAL_MS = 60_000;
const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;

export function createMetricReadersFromEnv(): IMetricReader[] {
  const names = [...new Set(getStringListFromEnv('OTEL_METRICS_EXPORTER') ?? [])];
  if (names.length === 0) {
    diag.debug('@pilotlight/otel: OTEL_METRICS_EXPORTER is empty; using otlp');
    names.push('otlp');
  }
  if (names.includes('none')) {
    diag.info('@pilotlight/otel: OTEL_METRICS_EXPORTER contains "none": no meter provider');
    return [];
  }
  return names.flatMap((name): IMetricReader[] => {
    switch (name) {
      case 'otlp':
        return [periodicReaderFromEnv(createOtlpMetricExporter())];
      case 'console':
        return [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })];
      case 'prometheus':
        return [
          new PilotlightPrometheusExporter({
            host: getStringFromEnv('OTEL_EXPORTER_PROMETHEUS_HOST') || PrometheusExporter.DEFAULT_OPTIONS.host,
            port: getNumberFromEnv('OTEL_EXPORTER_PROMETHEUS_PORT') || PrometheusExporter.DEFAULT_OPTIONS.port,
          }),
        ];
      default:
        diag.warn(`@pilotlight/otel: OTEL_METRICS_EXPORTER value "${name}" is not supported (otlp, console, prometheus, none); ignored`);
        return [];
    }
  });
}

function periodicReaderFromEnv(exporter: PushMetricExporter): PeriodicExportingMetricReader {
  const interval = positiveFromEnv('OTEL_METRIC_EXPORT_INTERVAL');
  const timeout = positiveFromEnv('OTEL_METRIC_EXPORT_TIMEOUT');
  const exportIntervalMillis = interval ?? DEFAULT_EXPORT_INTERVAL_MS;
  let exportTimeoutMillis = timeout ?? DEFAULT_EXPORT_TIMEOUT_MS;
  if (exportTimeoutMillis > exportIntervalMillis) {
    const message =
      `@pilotlight/otel: OTEL_METRIC_EXPORT_TIMEOUT (${timeout ?? `${DEFAULT_EXPORT_TIMEOUT_MS}, default`}) is greater than ` +
      `OTEL_METRIC_EXPORT_INTERVAL (${interval ?? `${DEFAULT_EXPORT_INTERVAL_MS}, default`}); using the interval as the timeout`;
    // A warning only when both were set: a short interval alone is a legitimate choice.
    if (interval !== undefined && timeout !== undefined) diag.warn(message);
    else diag.info(message);
    exportTimeoutMillis = exportIntervalMillis;
  }
  return new PeriodicExportingMetricReader({ exporter, exportIntervalMillis, exportTimeoutMillis });
}

function createOtlpMetricExporter(): PushMetricExporter {
  return otlpExporterFor<PushMetricExporter>('METRICS', {
    'http/protobuf': () => new OTLPProtoMetricExporter(),
    'http/json': () => new OTLPJsonMetricExporter(),
    grpc: () => new OTLPGrpcMetricExporter(),
  });
}

/** A number > 0, else undefined (the default), with a warning for a value ≤ 0, as the SDK reads it. */
function positiveFromEnv(name: string): number | undefined {
  const value = getNumberFromEnv(name);
  if (value === undefined || value > 0) return value;
  diag.warn(`@pilotlight/otel: ${name} (${value}) must be a number > 0; using the default`);
  return undefined;
}
