/**
 * A span exporter for development: it buffers finished spans per trace and prints each trace, once
 * its local root has ended (plus a short grace for late children), as an indented tree:
 *
 *   trace 0af7651916cd43dd8448eb211c80319c
 *   POST /api/tenants  [SERVER]  25.0 ms
 *   └─ enqueue TenantService.provisionTenant  [PRODUCER]  2.00 ms
 *      · State Applied: Enqueued
 *
 * A span whose parent never arrived (the parent lives in another process, or has not ended) heads a
 * tree of its own, preceded by a note.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export interface ConsoleTreeOptions {
  /** Where each printed trace goes (one call per trace, ending with a newline). @default process.stdout.write */
  write?: (text: string) => void;
  /** How long to wait after a trace's local root has ended for late children, in ms. @default 500 */
  graceMs?: number;
}

interface PendingTrace {
  readonly spans: ReadableSpan[];
  timer: NodeJS.Timeout | undefined;
}

const KIND_NAMES: Record<SpanKind, string> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

export class ConsoleTraceTreeExporter implements SpanExporter {
  readonly #write: (text: string) => void;
  readonly #graceMs: number;
  readonly #traces = new Map<string, PendingTrace>();
  #stopped = false;

  constructor(options: ConsoleTreeOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`ConsoleTraceTreeExporter options must be an object; received ${String(options)}`);
    }
    const { write, graceMs = 500 } = options;
    if (write !== undefined && typeof write !== 'function') {
      throw new TypeError(`ConsoleTraceTreeExporter options.write must be a function; received ${typeof write}`);
    }
    if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
      throw new RangeError(`ConsoleTraceTreeExporter options.graceMs must be a finite number >= 0; received ${String(graceMs)}`);
    }
    this.#write = write ?? ((text) => void process.stdout.write(text));
    this.#graceMs = graceMs;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('ConsoleTraceTreeExporter is shut down') });
      return;
    }
    for (const span of spans) {
      const traceId = span.spanContext().traceId;
      let pending = this.#traces.get(traceId);
      if (!pending) {
        pending = { spans: [], timer: undefined };
        this.#traces.set(traceId, pending);
      }
      pending.spans.push(span);
      // A local root ended (or a late child arrived after it): print after the grace period.
      if (isLocalRoot(span) || pending.timer) this.#schedule(traceId, pending);
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Prints every buffered trace now, complete or not. */
  async forceFlush(): Promise<void> {
    for (const traceId of [...this.#traces.keys()]) this.#print(traceId);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.#stopped = true;
  }

  #schedule(traceId: string, pending: PendingTrace): void {
    if (pending.timer) clearTimeout(pending.timer);
    pending.timer = setTimeout(() => this.#print(traceId), this.#graceMs);
    // Never keeps the process alive: forceFlush()/shutdown() print what is left.
    pending.timer.unref();
  }

  #print(traceId: string): void {
    const pending = this.#traces.get(traceId);
    if (!pending) return;
    this.#traces.delete(traceId);
    if (pending.timer) clearTimeout(pending.timer);
    try {
      this.#write(formatTraceTree(pending.spans));
    } catch {
      // A failing sink (closed stdout) must never break the application.
    }
  }
}

function isLocalRoot(span: ReadableSpan): boolean {
  return span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true;
}

/** Formats the spans of one trace as text: a header line, then one tree per root, ordered by start time. */
export function formatTraceTree(spans: readonly ReadableSpan[]): string {
  const byId = new Map<string, ReadableSpan>();
  for (const span of spans) byId.set(span.spanContext().spanId, span);
  const children = new Map<string, ReadableSpan[]>();
  const roots: ReadableSpan[] = [];
  for (const span of spans) {
    const parentId = span.parentSpanContext?.spanId;
    if (parentId !== undefined && byId.has(parentId)) {
      const siblings = children.get(parentId) ?? [];
      siblings.push(span);
      children.set(parentId, siblings);
    } else {
      roots.push(span);
    }
  }
  const lines = [`trace ${spans[0]?.spanContext().traceId ?? '(empty)'}`];
  for (const root of byStart(roots)) {
    const parent = root.parentSpanContext;
    if (parent !== undefined) {
      const where = parent.isRemote ? 'in another process' : 'not received';
      lines.push(`(parent span ${parent.spanId} ${where})`);
    }
    writeSpan(root, '', '', children, lines);
  }
  return `${lines.join('\n')}\n`;
}

function writeSpan(
  span: ReadableSpan,
  linePrefix: string,
  childPrefix: string,
  children: ReadonlyMap<string, ReadableSpan[]>,
  lines: string[],
): void {
  lines.push(`${linePrefix}${describeSpan(span)}`);
  const kids = byStart(children.get(span.spanContext().spanId) ?? []);
  const eventPrefix = `${childPrefix}${kids.length > 0 ? '│  ' : '   '}`;
  for (const event of span.events) lines.push(`${eventPrefix}· ${describeEvent(event.name, event.attributes)}`);
  kids.forEach((kid, index) => {
    const last = index === kids.length - 1;
    writeSpan(kid, `${childPrefix}${last ? '└─ ' : '├─ '}`, `${childPrefix}${last ? '   ' : '│  '}`, children, lines);
  });
}

function describeSpan(span: ReadableSpan): string {
  let line = `${span.name}  [${KIND_NAMES[span.kind] ?? String(span.kind)}]  ${formatDuration(hrTimeToMilliseconds(span.duration))}`;
  if (span.status.code === SpanStatusCode.ERROR) {
    line += span.status.message ? `  ERROR: ${span.status.message}` : '  ERROR';
  }
  return line;
}

function describeEvent(name: string, attributes: Readonly<Record<string, unknown>> | undefined): string {
  const message = attributes?.['exception.message'];
  return name === 'exception' && typeof message === 'string' ? `exception: ${message}` : name;
}

function byStart(spans: readonly ReadableSpan[]): ReadableSpan[] {
  return [...spans].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
}

/** `0.42 ms`, `12.3 ms`, `1.25 s`. */
export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
