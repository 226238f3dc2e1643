/**
 * The real OpenTelemetry SDK and the real Pilotlight core for the sampling tests: the global
 * context manager and W3C propagators (the core stores a job's creation context with them), and a
 * TracerProvider per test, given to the client and worker through the tracing option
 * `tracerProvider`, with the sampler and span processors the test chooses.
 */
import { context, propagation, trace, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { after, before } from 'node:test';
import { createClient, silentLogger, type Client, type JobDefinition, type TracingOptions, type Worker } from 'pilotlight';
import { tempStore, testWorker, waitFor } from '../../../pilotlight/test/support/helpers.ts';

export { waitFor, waitForState } from '../../../pilotlight/test/support/helpers.ts';

/** Registers the global context manager and propagators for the test file. */
export function installContext(): void {
  before(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
  });
  after(() => {
    propagation.disable();
    context.disable();
  });
}

export interface Sdk {
  readonly provider: TracerProvider;
  readonly tracer: Tracer;
  /** Exported spans, in the order they were exported. */
  spans(): ReadableSpan[];
  named(name: string): ReadableSpan[];
  /** Waits until `count` spans named `name` are exported; returns them. */
  waitForSpans(name: string, count: number): Promise<ReadableSpan[]>;
}

/**
 * A TracerProvider exporting to memory, shut down after the test file. `wrap` puts a processor
 * (the tail sampler) in front of the exporter's SimpleSpanProcessor.
 */
export function createSdk(options: { sampler?: Sampler; wrap?: (next: SpanProcessor) => SpanProcessor } = {}): Sdk {
  const exporter = new InMemorySpanExporter();
  const exporting = new SimpleSpanProcessor({ exporter });
  const provider = new TracerProvider({
    spanProcessors: [options.wrap ? options.wrap(exporting) : exporting],
    ...(options.sampler && { sampler: options.sampler }),
  });
  after(() => provider.shutdown());
  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const named = (name: string): ReadableSpan[] => spans().filter((span) => span.name === name);
  return {
    provider,
    tracer: provider.getTracer('sampling-test'),
    spans,
    named,
    waitForSpans: (name, count) =>
      waitFor(() => (named(name).length >= count ? named(name) : undefined), `${count} exported span(s) named "${name}"`),
  };
}

/** A client and a started worker on a fresh SQLite store, tracing to `sdk`. */
export async function jobsTracedTo(
  sdk: Sdk,
  jobs: JobDefinition<any, any>[],
  tracing: Omit<TracingOptions, 'tracerProvider'> = {},
): Promise<{ client: Client; worker: Worker }> {
  const store = tempStore();
  const client = createClient({ store, logger: silentLogger, tracing: { ...tracing, tracerProvider: sdk.provider } });
  const worker = testWorker({ store, jobs, queues: ['default', 'bulk'], tracing: { ...tracing, tracerProvider: sdk.provider } });
  await worker.start();
  return { client, worker };
}

/** Runs `work` inside a span of `tracer` (a stand-in for an incoming HTTP request's span). */
export function inSpan<T>(tracer: Tracer, name: string, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await work(span);
    } finally {
      span.end();
    }
  });
}
