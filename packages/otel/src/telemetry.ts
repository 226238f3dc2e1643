/**
 * startTelemetry(): Pilotlight's service defaults on top of the official Node SDK (`NodeSDK`).
 *
 * - Traces: OTLP when an endpoint is configured (protocol from OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL,
 *   batched with the OTEL_BSP_* settings), the exporters named by OTEL_TRACES_EXPORTER if set, and
 *   the console trace tree (by default only when neither an OTLP endpoint nor OTEL_TRACES_EXPORTER
 *   is configured).
 * - Metrics: the readers of OTEL_METRICS_EXPORTER, as the SDK builds them, when an endpoint (or
 *   OTEL_METRICS_EXPORTER) is configured, `prometheus` on an endpoint that never keeps the process
 *   alive (see metrics/); nothing otherwise (no export to a default localhost port).
 * - Logs: the SDK's environment configuration on the same condition.
 * - Sampler: the job sampler (parent-based) when `sampling` or PILOTLIGHT_TRACES_SAMPLER is set,
 *   the SDK's OTEL_TRACES_SAMPLER otherwise; `tailSampling` or PILOTLIGHT_TAIL_SAMPLING puts the
 *   job tail sampler in front of the OTLP batch processor.
 * - Resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, detectors), propagators (W3C trace
 *   context + baggage by default), span limits, OTEL_LOG_LEVEL: the SDK reads them.
 * - OTEL_SDK_DISABLED=true: nothing is created or registered.
 */
import { diag, DiagConsoleLogger, DiagLogLevel, metrics } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ConsoleTraceTreeExporter, type ConsoleTreeOptions } from './console-tree.ts';
import { createInstrumentations, HOOKED_MODULES } from './instrumentations.ts';
import { registerEsmHook } from './esm-hook.ts';
import { createMetricReadersFromEnv } from './metrics/metric-readers.ts';
import { otlpExporterFor } from './otlp-protocol.ts';
import { tailSamplingFromEnv, TRACES_SAMPLER_ENV, tracesSamplerFromEnv } from './sampling/env.ts';
import { JobSampler, resolveJobSamplerOptions, type JobSamplerOptions } from './sampling/job-sampler.ts';
import { resolveTailSamplingOptions, type TailSamplingOptions } from './sampling/tail-sampling-options.ts';
import { JobTailSamplingProcessor } from './sampling/tail-sampling-processor.ts';

export interface TelemetryOptions {
  /** @default process.env.OTEL_SERVICE_NAME ?? 'unknown_service:node' */
  serviceName?: string;
  /**
   * Print each finished trace as an indented tree on stdout (development); `true` prints it whatever
   * the environment says. An explicit OTEL_TRACES_EXPORTER (`none`, `otlp`, `console`) turns the
   * default off, so that a production process (e.g. one serving its metrics to Prometheus, with
   * OTEL_TRACES_EXPORTER=none) does not write a tree per job.
   * @default true when no OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT /
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT unset) and OTEL_TRACES_EXPORTER is unset, false otherwise
   */
  console?: boolean | ConsoleTreeOptions;
  /**
   * Head sampling of job spans (see `createJobSampler`), as the root of a parent-based sampler that
   * replaces the SDK's (OTEL_TRACES_SAMPLER is then ignored). Wins over PILOTLIGHT_TRACES_SAMPLER.
   * @default PILOTLIGHT_TRACES_SAMPLER if set, else the SDK's sampler (OTEL_TRACES_SAMPLER; parent-based always-on)
   */
  sampling?: JobSamplerOptions;
  /**
   * Tail sampling of job attempts (see `JobTailSamplingProcessor`) in front of the OTLP exporter;
   * `false`: none, whatever PILOTLIGHT_TAIL_SAMPLING says. Wins over PILOTLIGHT_TAIL_SAMPLING.
   * @default PILOTLIGHT_TAIL_SAMPLING if set, else none
   */
  tailSampling?: TailSamplingOptions | false;
}

export interface Telemetry {
  /** Exports everything pending, then stops exporting. Safe to call more than once. */
  shutdown(): Promise<void>;
  /** Exports everything pending (spans, metrics) now. */
  forceFlush(): Promise<void>;
}

const STARTED = Symbol.for('pilotlight.otel.telemetry');
type GlobalWithTelemetry = typeof globalThis & { [STARTED]?: Telemetry };

/**
 * Registers the OpenTelemetry Node SDK for this process from the environment and `options`.
 * Idempotent: a second call (even from another copy of this package) returns the first Telemetry.
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  validateOptions(options);
  const global = globalThis as GlobalWithTelemetry;
  const existing = global[STARTED];
  if (existing) return existing;
  const telemetry = isSdkDisabled() ? disabledTelemetry() : createTelemetry(options);
  global[STARTED] = telemetry;
  return telemetry;
}

function createTelemetry(options: TelemetryOptions): Telemetry {
  if (env('OTEL_LOG_LEVEL') === undefined) {
    // OpenTelemetry's own warnings and errors (failed exports...) go to stderr; OTEL_LOG_LEVEL overrides.
    diag.setLogger(new DiagConsoleLogger(), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  }
  // ES modules are only instrumented when imported after this hook is registered: see README.
  registerEsmHook(HOOKED_MODULES);

  const spanProcessors = createSpanProcessors(options);
  const sampler = createSampler(options);
  const sdk = new NodeSDK({
    spanProcessors,
    ...(sampler && { sampler }),
    instrumentations: createInstrumentations(),
    ...(options.serviceName !== undefined || !serviceNameFromEnv() ? { serviceName: options.serviceName ?? 'unknown_service:node' } : {}),
    // [] = no MeterProvider / LoggerProvider; logRecordProcessors undefined = the SDK's OTEL_* configuration.
    metricReaders: configured('METRICS') ? createMetricReadersFromEnv() : [],
    ...(configured('LOGS') ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  const forceFlush = async (): Promise<void> => {
    const meterProvider = metrics.getMeterProvider() as { forceFlush?: () => Promise<void> };
    await Promise.all([
      ...spanProcessors.map((processor) => processor.forceFlush()),
      typeof meterProvider.forceFlush === 'function' ? meterProvider.forceFlush() : undefined,
    ]);
  };
  return {
    forceFlush,
    shutdown() {
      // Flushed first: a SimpleSpanProcessor (the console tree) shuts its exporter down without waiting
      // for the exports in progress, which wait for the resource's async attributes, so a span ended
      // just before would be lost; a failed flush (its exporter reports it) must not keep the SDK from
      // shutting down. The MeterProvider collects and exports a last time.
      stopping ??= Promise.allSettled(spanProcessors.map((processor) => processor.forceFlush()))
        .then(() => sdk.shutdown())
        .catch((error: unknown) => diag.error('@pilotlight/otel: shutdown failed', error));
      return stopping;
    },
  };
}

function createSpanProcessors(options: TelemetryOptions): SpanProcessor[] {
  const processors: SpanProcessor[] = [];
  const tracesOtlp = env('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined || env('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined;
  const listed = list('OTEL_TRACES_EXPORTER');
  const names = listed ?? (tracesOtlp ? ['otlp'] : []);
  if (!names.includes('none')) {
    for (const name of new Set(names)) {
      if (name === 'otlp') processors.push(tailSampled(batch(createOtlpTraceExporter()), options));
      else if (name === 'console') processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
      else diag.warn(`@pilotlight/otel: OTEL_TRACES_EXPORTER value "${name}" is not supported (otlp, console, none); ignored`);
    }
  }
  // The tree is for development: any configured trace export (even `none`) means it is not wanted.
  const consoleOption = options.console ?? (!tracesOtlp && listed === undefined);
  if (consoleOption !== false) {
    const exporter = new ConsoleTraceTreeExporter(consoleOption === true ? {} : consoleOption);
    processors.push(new SimpleSpanProcessor({ exporter }));
  }
  return processors;
}

/** The job sampler from `options.sampling`, else PILOTLIGHT_TRACES_SAMPLER; undefined: the SDK's own. */
function createSampler(options: TelemetryOptions): Sampler | undefined {
  const sampling = options.sampling ?? tracesSamplerFromEnv();
  if (sampling === undefined) return undefined;
  if (env('OTEL_TRACES_SAMPLER') !== undefined) {
    const source = options.sampling === undefined ? TRACES_SAMPLER_ENV : 'options.sampling';
    diag.warn(`@pilotlight/otel: OTEL_TRACES_SAMPLER is ignored: ${source} configures the sampler`);
  }
  return new JobSampler(resolveJobSamplerOptions(sampling, 'startTelemetry() options.sampling')).parentBased();
}

/** `processor`, behind the job tail sampler when `options.tailSampling` (else PILOTLIGHT_TAIL_SAMPLING) asks for it. */
function tailSampled(processor: SpanProcessor, options: TelemetryOptions): SpanProcessor {
  const tailSampling = options.tailSampling === false ? undefined : (options.tailSampling ?? tailSamplingFromEnv());
  return tailSampling === undefined ? processor : new JobTailSamplingProcessor(processor, tailSampling);
}

function createOtlpTraceExporter(): SpanExporter {
  return otlpExporterFor<SpanExporter>('TRACES', {
    'http/protobuf': () => new OTLPProtoTraceExporter(),
    'http/json': () => new OTLPJsonTraceExporter(),
    grpc: () => new OTLPGrpcTraceExporter(),
  });
}

function batch(exporter: SpanExporter): SpanProcessor {
  return new BatchSpanProcessor({
    exporter,
    maxQueueSize: positive('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: positive('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: positive('OTEL_BSP_EXPORT_TIMEOUT'),
    maxExportBatchSize: positive('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  });
}

function disabledTelemetry(): Telemetry {
  const done = async (): Promise<void> => undefined;
  return { shutdown: done, forceFlush: done };
}

function validateOptions(options: TelemetryOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`startTelemetry() options must be an object; received ${String(options)}`);
  }
  const { serviceName, console: consoleOption } = options;
  if (serviceName !== undefined && (typeof serviceName !== 'string' || serviceName.trim() === '')) {
    throw new TypeError(
      `startTelemetry() options.serviceName must be a non-empty string; received ${JSON.stringify(serviceName) ?? String(serviceName)}`,
    );
  }
  if (consoleOption !== undefined && typeof consoleOption !== 'boolean' && (consoleOption === null || typeof consoleOption !== 'object')) {
    throw new TypeError(`startTelemetry() options.console must be a boolean or { write }; received ${String(consoleOption)}`);
  }
  resolveJobSamplerOptions(options.sampling, 'startTelemetry() options.sampling');
  const { tailSampling } = options;
  if (tailSampling !== undefined && tailSampling !== false && (tailSampling === null || typeof tailSampling !== 'object')) {
    throw new TypeError(
      `startTelemetry() options.tailSampling must be { ratio, slowerThanMs, maxBufferedSpans } or false; received ${String(tailSampling)}`,
    );
  }
  if (tailSampling !== false) resolveTailSamplingOptions(tailSampling, 'startTelemetry() options.tailSampling');
}

/** OTEL_SDK_DISABLED=true (case-insensitive), as the specification says. */
export function isSdkDisabled(): boolean {
  return env('OTEL_SDK_DISABLED')?.toLowerCase() === 'true';
}

/** Whether the environment configures an export for this signal: then its OTEL_* variables say which. */
function configured(signal: 'METRICS' | 'LOGS'): boolean {
  return (
    env('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined ||
    env(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`) !== undefined ||
    env(`OTEL_${signal}_EXPORTER`) !== undefined
  );
}

function serviceNameFromEnv(): boolean {
  return env('OTEL_SERVICE_NAME') !== undefined || /(^|,)\s*service\.name\s*=/.test(env('OTEL_RESOURCE_ATTRIBUTES') ?? '');
}

function env(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function list(name: string): string[] | undefined {
  const names = env(name)
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return names === undefined || names.length === 0 ? undefined : names;
}

function positive(name: string): number | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (Number.isFinite(value) && value > 0) return value;
  diag.warn(`@pilotlight/otel: ${name} must be a number > 0; received "${raw}"; using the default`);
  return undefined;
}
