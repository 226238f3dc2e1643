import { context, propagation, trace, type Span as ApiSpan } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace';
import { after, beforeEach } from 'node:test';

/**
 * The real OpenTelemetry SDK for a test file: a context manager, the W3C propagators and a tracer
 * provider exporting to memory, registered globally (each test file runs in its own process).
 * Spans are cleared before each test.
 */
export function installOtel(options: { sampler?: Sampler } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    ...(options.sampler && { sampler: options.sampler }),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  beforeEach(() => exporter.reset());
  after(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });
  return {
    provider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    /** Finished spans named `name`, in the order they ended. */
    named: (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name),
    /** Runs `work` inside an active span named `name` (a stand-in for an HTTP request span). */
    inSpan: <T>(name: string, work: (span: ApiSpan) => Promise<T>): Promise<T> =>
      trace.getTracer('test').startActiveSpan(name, async (span) => {
        try {
          return await work(span);
        } finally {
          span.end();
        }
      }),
  };
}

/** The span's parent span id, or undefined for a root span. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** Event names of a span, in order. */
export function eventNames(span: ReadableSpan): string[] {
  return span.events.map((event) => event.name);
}
