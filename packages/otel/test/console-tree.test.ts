/** The console trace tree's exact output, on a synthetic trace made by a real SDK TracerProvider. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace, type Span, type SpanContext, TraceFlags } from '@opentelemetry/api';
import { SimpleSpanProcessor, TracerProvider, type IdGenerator } from '@opentelemetry/sdk-trace';
import { ConsoleTraceTreeExporter } from '@pilotlight/otel';

const T0 = 1_700_000_000_000; // ms since the epoch

/** Deterministic ids: the traces below in turn, spans 0…01, 0…02, ... in creation order. */
function sequentialIds(): IdGenerator {
  const traceIds = ['0af7651916cd43dd8448eb211c80319c', '4bf92f3577b34da6a3ce929d0e0e4736'];
  let traces = 0;
  let span = 0;
  return {
    generateTraceId: () => traceIds[traces++ % traceIds.length]!,
    generateSpanId: () => (++span).toString(16).padStart(16, '0'),
  };
}

function setup(graceMs = 0) {
  const output: string[] = [];
  const exporter = new ConsoleTraceTreeExporter({ write: (text) => output.push(text), graceMs });
  const provider = new TracerProvider({ idGenerator: sequentialIds(), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('console-tree-test');
  const start = (name: string, kind: SpanKind, at: number, parent?: Span | SpanContext): Span => {
    const ctx =
      parent === undefined
        ? context.active()
        : trace.setSpanContext(context.active(), 'spanContext' in parent ? parent.spanContext() : parent);
    return tracer.startSpan(name, { kind, startTime: T0 + at, root: parent === undefined }, ctx);
  };
  return { output, exporter, provider, start };
}

describe('ConsoleTraceTreeExporter', () => {
  it('prints a finished trace as a tree: children by start time, events, errors', async () => {
    const { output, provider, start } = setup();
    const request = start('POST /api/tenants', SpanKind.SERVER, 0);
    const enqueue = start('enqueue TenantService.provisionTenant', SpanKind.PRODUCER, 2, request);
    enqueue.addEvent('State Applied: Enqueued', T0 + 3);
    // Started later but ended first: must still be printed after `enqueue`.
    const attempt2 = start('process TenantService.provisionTenant', SpanKind.CONSUMER, 600, enqueue);
    attempt2.addEvent('State Applied: Processing', T0 + 600);
    const attempt1 = start('process TenantService.provisionTenant', SpanKind.CONSUMER, 10, enqueue);
    attempt1.addEvent('State Applied: Processing', T0 + 10);
    attempt1.recordException(new Error('storage not ready'), T0 + 14);
    attempt1.setStatus({ code: SpanStatusCode.ERROR, message: 'storage not ready' });
    attempt1.end(T0 + 15.5);
    const db = start('db.insert tenants', SpanKind.CLIENT, 601, attempt2);
    db.end(T0 + 601.25);
    attempt2.addEvent('State Applied: Succeeded', T0 + 1800);
    attempt2.end(T0 + 1850);
    enqueue.end(T0 + 4);
    assert.deepEqual(output, [], 'nothing is printed before the root span ends');
    request.end(T0 + 25);
    await sleep(20);
    assert.deepEqual(output, [
      [
        'trace 0af7651916cd43dd8448eb211c80319c',
        'POST /api/tenants  [SERVER]  25.0 ms',
        '└─ enqueue TenantService.provisionTenant  [PRODUCER]  2.00 ms',
        '   │  · State Applied: Enqueued',
        '   ├─ process TenantService.provisionTenant  [CONSUMER]  5.50 ms  ERROR: storage not ready',
        '   │     · State Applied: Processing',
        '   │     · exception: storage not ready',
        '   └─ process TenantService.provisionTenant  [CONSUMER]  1.25 s',
        '      │  · State Applied: Processing',
        '      │  · State Applied: Succeeded',
        '      └─ db.insert tenants  [CLIENT]  0.25 ms',
        '',
      ].join('\n'),
    ]);
    await provider.shutdown();
  });

  it('prints a span whose parent is in another process as its own tree, headed by a note', async () => {
    const { output, provider, start } = setup();
    const remoteParent: SpanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    };
    const attempt = start('process email.send', SpanKind.CONSUMER, 0, remoteParent);
    attempt.setStatus({ code: SpanStatusCode.ERROR });
    start('GET https://mail.example', SpanKind.CLIENT, 1, attempt).end(T0 + 3);
    attempt.end(T0 + 120);
    await sleep(20);
    assert.deepEqual(output, [
      [
        'trace 0af7651916cd43dd8448eb211c80319c',
        '(parent span b7ad6b7169203331 in another process)',
        'process email.send  [CONSUMER]  120.0 ms  ERROR',
        '└─ GET https://mail.example  [CLIENT]  2.00 ms',
        '',
      ].join('\n'),
    ]);
    await provider.shutdown();
  });

  it('waits the grace period for late children, and forceFlush() prints what is left', async () => {
    const { output, exporter, provider, start } = setup(200);
    const root = start('BackgroundTask.MetadataScanTask', SpanKind.INTERNAL, 0);
    const late = start('scan file', SpanKind.INTERNAL, 1, root);
    root.end(T0 + 10);
    late.end(T0 + 12); // ends after its parent, within the grace period
    const other = start('never ended root', SpanKind.SERVER, 0);
    start('orphan child', SpanKind.INTERNAL, 1, other).end(T0 + 2);
    await sleep(20);
    assert.deepEqual(output, [], 'printed only after the grace period');
    await sleep(400);
    assert.equal(output.length, 1);
    assert.equal(
      output[0],
      'trace 0af7651916cd43dd8448eb211c80319c\nBackgroundTask.MetadataScanTask  [INTERNAL]  10.0 ms\n└─ scan file  [INTERNAL]  11.0 ms\n',
    );
    await exporter.forceFlush();
    assert.equal(output.length, 2);
    assert.equal(
      output[1],
      'trace 4bf92f3577b34da6a3ce929d0e0e4736\n(parent span 0000000000000003 not received)\norphan child  [INTERNAL]  1.00 ms\n',
    );
    other.end();
    await provider.shutdown();
  });

  it('rejects bad options, naming the option and the value', () => {
    assert.throws(() => new ConsoleTraceTreeExporter({ graceMs: -1 }), {
      message: 'ConsoleTraceTreeExporter options.graceMs must be a finite number >= 0; received -1',
    });
    assert.throws(() => new ConsoleTraceTreeExporter({ write: 'stdout' as never }), {
      message: 'ConsoleTraceTreeExporter options.write must be a function; received string',
    });
  });
});
