/**
 * Back-pressure with the real limits, the real protobuf exporter and a real SQLite trace store
 * behind a gate: once the spans pending reach `maxPendingSpans`, exports are answered 429 with
 * Retry-After and nothing of them is kept; the exporter retries, and once the gate opens every span
 * is stored exactly once. A failing trace store is answered 503 with Retry-After, logged once, and
 * nothing acknowledged is missing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { TRACE_LIMITS } from '../../src/config/defaults.ts';
import { protobufBody, recordSpans, type ReadableSpan } from './support/real-spans.ts';
import { gatedStore, postOtlp, recordingLogger, serveDashboard, tempTraceStore, waitFor } from './support/receiving.ts';

/** One trace of `count` spans: a root and its children. */
async function oneTrace(count: number): Promise<ReadableSpan[]> {
  return recordSpans((tracer) => {
    const root = tracer.startSpan('import batch');
    const within = trace.setSpan(context.active(), root);
    for (let index = 1; index < count; index += 1) tracer.startSpan(`row ${index}`, {}, within).end();
    root.end();
  });
}

/** `exporter.export()`, as a promise of its result. */
function exportSpans(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function exporterTo(url: string): OTLPTraceExporter {
  // A generous timeout: the test holds the writes for a while, and the exporter retries within it.
  return new OTLPTraceExporter({ url, compression: 'gzip' as never, timeoutMillis: 120_000 });
}

async function storedSpanIds(
  store: { getTrace(traceId: string, limit: number): Promise<{ spans: readonly { spanId: string }[] }> },
  traceId: string,
) {
  const { spans } = await store.getTrace(traceId, 1_000_000);
  return spans.map((span) => span.spanId).sort();
}

describe('back-pressure', () => {
  it('429 with Retry-After past maxPendingSpans, nothing kept of it; the exporter retries and every span is stored once', async () => {
    const real = await tempTraceStore();
    const gated = gatedStore(real);
    const { url, answered } = await serveDashboard({ traces: { store: gated.store } });
    // Over the bound in two exports: the first fills most of it, the second would pass it.
    const spans = await oneTrace(Math.round(TRACE_LIMITS.maxPendingSpans * 1.01));
    const first = spans.slice(0, Math.round(TRACE_LIMITS.maxPendingSpans * 0.6));
    const second = spans.slice(first.length);
    await waitFor(() => gated.prunes === 1 && gated.active === 0, 'the start-up prune');
    gated.shut();

    const firstExport = exportSpans(exporterTo(url), first);
    await waitFor(() => gated.writes.length === 1, 'the first write, held at the gate', 60_000);
    const direct = await postOtlp(url, protobufBody(second));
    assert.equal(direct.status, 429, direct.body.toString());
    assert.equal(direct.headers.get('retry-after'), String(TRACE_LIMITS.retryAfterSeconds));

    const secondExport = exportSpans(exporterTo(url), second);
    await waitFor(() => answered.filter((answer) => answer.status === 429).length === 2, "the exporter's export answered 429", 60_000);
    assert.equal(answered.find((answer) => answer.status === 429)?.retryAfter, String(TRACE_LIMITS.retryAfterSeconds));
    assert.equal(await real.countSpans(), 0, 'nothing written while the gate is shut');
    gated.open();

    assert.equal((await firstExport).code, ExportResultCode.SUCCESS);
    assert.equal((await secondExport).code, ExportResultCode.SUCCESS, 'the exporter retried after Retry-After');
    assert.ok(
      gated.writes.every((size) => size <= TRACE_LIMITS.maxWriteBatchSpans),
      `at most maxWriteBatchSpans a write: ${gated.writes.join(', ')}`,
    );
    assert.equal(await real.countSpans(), spans.length, 'every span once');
    const traceId = spans[0]!.spanContext().traceId;
    assert.deepEqual(await storedSpanIds(real, traceId), spans.map((span) => span.spanContext().spanId).sort());
  });

  it('503 with Retry-After while the trace store fails, logged once; the exporter retries and nothing acknowledged is missing', async () => {
    const real = await tempTraceStore();
    const gated = gatedStore(real);
    const log = recordingLogger();
    const { url, answered } = await serveDashboard({ traces: { store: gated.store }, logger: log.logger });
    const acknowledged = await oneTrace(20);
    assert.equal((await postOtlp(url, protobufBody(acknowledged))).status, 200);

    gated.failure = new Error('disk I/O error');
    const lost = await oneTrace(5);
    const direct = await postOtlp(url, protobufBody(lost));
    assert.equal(direct.status, 503);
    assert.equal(direct.headers.get('retry-after'), String(TRACE_LIMITS.retryAfterSeconds));
    const retried = await oneTrace(30);
    const exporting = exportSpans(exporterTo(url), retried);
    await waitFor(() => answered.filter((answer) => answer.status === 503).length === 2, "the exporter's export answered 503");
    gated.failure = undefined;
    assert.equal((await exporting).code, ExportResultCode.SUCCESS, 'the exporter retried after Retry-After');

    assert.equal(log.errors().length, 1, 'one error logged for the failing burst');
    assert.match(log.errors()[0]!.message, /writing received spans to the trace store failed/);
    for (const spans of [acknowledged, retried]) {
      assert.deepEqual(await storedSpanIds(real, spans[0]!.spanContext().traceId), spans.map((span) => span.spanContext().spanId).sort());
    }
    assert.deepEqual(await storedSpanIds(real, lost[0]!.spanContext().traceId), [], 'the refused request: not acknowledged, not kept');
    assert.equal(await real.countSpans(), acknowledged.length + retried.length);
  });
});
