import { diag } from '@opentelemetry/api';

/** The OTLP transports the exporters of every signal come in. */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json', 'grpc'] satisfies OtlpProtocol[];

/**
 * The OTLP exporter of a signal for its protocol, as the specification reads it:
 * OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else `http/protobuf`. An
 * unsupported value is reported through `diag` and `http/protobuf` is used.
 */
export function otlpExporterFor<T>(signal: 'TRACES' | 'METRICS', exporters: Readonly<Record<OtlpProtocol, () => T>>): T {
  const variable = `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`;
  const protocol = process.env[variable]?.trim() || process.env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || 'http/protobuf';
  if (PROTOCOLS.includes(protocol)) return exporters[protocol as OtlpProtocol]();
  diag.warn(
    `@pilotlight/otel: ${variable} / OTEL_EXPORTER_OTLP_PROTOCOL "${protocol}" is not supported (http/protobuf, http/json, grpc); using http/protobuf`,
  );
  return exporters['http/protobuf']();
}
