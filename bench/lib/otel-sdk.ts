import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  type ExportResult,
} from '@opentelemetry/core';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

/**
 * The real OpenTelemetry SDK for the tracing bench, as an application would set it up, minus the
 * network: every span is sampled, recorded and batched, then handed to an exporter that drops it.
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

/** `api 1.10.0, sdk-trace 3.1.1, ...`: the installed OpenTelemetry packages the bench uses. */
export function otelVersions(): string {
  const packages = ['api', 'sdk-trace', 'context-async-hooks', 'core'];
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
