/**
 * The official OpenTelemetry JS exporters, unchanged, deliver to the dashboard's receiver: the
 * protobuf one (`@opentelemetry/exporter-trace-otlp-proto`) and the JSON one
 * (`@opentelemetry/exporter-trace-otlp-http`), each gzip-compressed and not, through a real
 * TracerProvider and BatchSpanProcessor, configured by OTEL_EXPORTER_OTLP_ENDPOINT alone, to a real
 * node:http server (at the root and under a base path) and a real SQLite trace store, and to the
 * dashboard mounted in Express behind body parsers that read the bodies first. Every span arrives
 * exactly as the SDK recorded it, resource attributes included.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import express from 'express';
import { createSqliteStore } from 'pilotlight/sqlite';
import { createDashboard, type SpanRecord, type TraceStore } from '../../src/index.ts';
import { tempDir } from '../http-support.ts';
import { expectedRecords, jobScenario, type ReadableSpan } from './support/real-spans.ts';
import { serveDashboard, tempTraceStore } from './support/receiving.ts';

const EXPORTERS = { 'exporter-trace-otlp-proto': ProtobufExporter, 'exporter-trace-otlp-http (JSON)': HttpJsonExporter } as const;
const RESOURCE = { 'service.name': 'receiver-test', 'process.pid': process.pid, 'host.name': hostname() };

const savedEndpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
after(() => {
  if (savedEndpoint === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = savedEndpoint;
});

/**
 * Runs the job scenario on a provider exporting through `Exporter` (its endpoint from
 * OTEL_EXPORTER_OTLP_ENDPOINT, as in every process of an application) and, beside it, to memory:
 * resolves with the spans the SDK recorded once the exporter has delivered them.
 */
async function export_(Exporter: (typeof EXPORTERS)[keyof typeof EXPORTERS], endpoint: string, compression: 'gzip' | 'none') {
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  const memory = new InMemorySpanExporter();
  const otlp = new Exporter({ compression: compression as never });
  const provider = new TracerProvider({
    resource: resourceFromAttributes(RESOURCE),
    spanProcessors: [new BatchSpanProcessor({ exporter: otlp }), new SimpleSpanProcessor({ exporter: memory })],
  });
  await jobScenario(provider.getTracer('pilotlight', '0.1.0'));
  await provider.forceFlush();
  const spans = memory.getFinishedSpans(); // before shutdown(), which clears them
  await provider.shutdown();
  return spans;
}

/** What the store holds of the spans' traces, in a stable order. */
async function stored(store: TraceStore, spans: readonly ReadableSpan[]): Promise<SpanRecord[]> {
  const traceIds = [...new Set(spans.map((span) => span.spanContext().traceId))];
  const traces = await Promise.all(traceIds.map((traceId) => store.getTrace(traceId, 1_000)));
  return bySpanId(traces.flatMap((trace) => trace.spans));
}

function bySpanId(records: readonly SpanRecord[]): SpanRecord[] {
  return [...records].sort((a, b) => a.spanId.localeCompare(b.spanId));
}

for (const basePath of ['', '/dashboard']) {
  describe(`the official exporters deliver to ${basePath || 'the root'}${basePath && ' (endpoint http://127.0.0.1:PORT/dashboard)'}`, async () => {
    const store = await tempTraceStore();
    const { endpoint, answered } = await serveDashboard({ basePath, traces: { store } });
    let total = 0;

    for (const [name, Exporter] of Object.entries(EXPORTERS)) {
      for (const compression of ['gzip', 'none'] as const) {
        it(`${name}, compression '${compression}': every span stored exactly, resource attributes included`, async () => {
          const spans = await export_(Exporter, endpoint, compression);
          const request = answered.at(-1)!;
          assert.deepEqual(
            answered.map((answer) => answer.status),
            answered.map(() => 200),
            'every export accepted',
          );
          assert.equal(request.headers['content-type'], Exporter === ProtobufExporter ? 'application/x-protobuf' : 'application/json');
          assert.equal(request.headers['content-encoding'], compression === 'gzip' ? 'gzip' : undefined);
          assert.equal(spans.length, 6);
          const records = await stored(store, spans);
          assert.deepEqual(records, bySpanId(expectedRecords(spans)));
          for (const record of records) assert.deepEqual(record.resource, RESOURCE);
          const attempt = records.find((record) => record.status.code === 'error')!;
          assert.deepEqual(
            attempt.events.map((event) => event.name),
            ['State Applied: Processing', 'exception', 'State Applied: Failed'],
          );
          total += spans.length;
          assert.equal(await store.countSpans(), total, 'each span once');
        });
      }
    }
  });
}

describe('mounted in Express behind express.json() and express.raw(), which read the bodies before the dashboard', async () => {
  const store = await tempTraceStore();
  const jobs = createSqliteStore({ path: join(tempDir(), 'jobs.db') });
  const dashboard = createDashboard({ store: jobs, basePath: '/admin/jobs', traces: { store } });
  const app = express();
  // As an application's own routes need them: the OTLP bodies reach the dashboard parsed (JSON) or as bytes.
  app.use(express.json({ limit: '10mb' }));
  app.use(express.raw({ type: 'application/x-protobuf', limit: '10mb' }));
  app.use('/admin/jobs', dashboard);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await dashboard.close();
    await jobs.close();
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/jobs`;
  let total = 0;
  for (const [name, Exporter] of Object.entries(EXPORTERS)) {
    for (const compression of ['gzip', 'none'] as const) {
      it(`${name}, compression '${compression}': every span stored exactly`, async () => {
        const spans = await export_(Exporter, endpoint, compression);
        assert.deepEqual(await stored(store, spans), bySpanId(expectedRecords(spans)));
        total += spans.length;
        assert.equal(await store.countSpans(), total, 'each span once');
      });
    }
  }
});
