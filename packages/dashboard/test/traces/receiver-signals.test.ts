/**
 * One OTEL_EXPORTER_OTLP_ENDPOINT serves every signal: the official metrics and logs exporters
 * (`@opentelemetry/exporter-metrics-otlp-proto`, `@opentelemetry/exporter-logs-otlp-proto`) pointed
 * at the dashboard succeed, so an SDK configured by that variable alone logs no export error. The
 * dashboard keeps traces only: metrics and logs are read, answered 200 and dropped, which it logs
 * once per signal; their bodies go through the same checks as spans (a malformed envelope, no).
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { recordingLogger, serveDashboard, tempTraceStore } from './support/receiving.ts';

const traceStore = await tempTraceStore();
const { logger, lines } = recordingLogger();
const dashboard = await serveDashboard({ traces: { store: traceStore }, logger });
const resource = resourceFromAttributes({ 'service.name': 'signals-test' });

/** Wraps an exporter to keep the result of each export it made. */
function recording(exporter: PushMetricExporter): { exporter: PushMetricExporter; results: ExportResult[] } {
  const results: ExportResult[] = [];
  return {
    results,
    exporter: {
      export: (metrics, done) => exporter.export(metrics, (result) => done((results.push(result), result))),
      forceFlush: () => exporter.forceFlush(),
      shutdown: () => exporter.shutdown(),
      selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    },
  };
}

it('the metrics exporter delivers (200) and the metrics are dropped, logged once', async () => {
  const { exporter, results } = recording(new OTLPMetricExporter({ url: `${dashboard.endpoint}/v1/metrics` }));
  const provider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
  });
  after(() => provider.shutdown());
  const counter = provider.getMeter('pilotlight').createCounter('pilotlight.jobs.processed');
  for (let round = 0; round < 2; round++) {
    counter.add(1, { 'pilotlight.job.type': 'TenantService' });
    await provider.forceFlush();
  }
  assert.deepEqual(
    results.map((result) => result.code),
    [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
    `every export succeeded: ${results.map((result) => result.error?.message).join(', ')}`,
  );
  const dropped = lines.filter((line) => line.message.includes('OTLP metrics received and dropped'));
  assert.equal(dropped.length, 1, 'said once, not once per export');
  assert.equal(dropped[0]!.level, 'info');
  assert.equal(await traceStore.countSpans(), 0);
});

it('the logs exporter delivers (200) and the logs are dropped, logged once', async () => {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  after(() => provider.shutdown());
  provider.getLogger('pilotlight').emit({ body: 'job 7 failed', severityText: 'ERROR' });
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  assert.equal(records.length, 1);
  const otlp = new OTLPLogExporter({ url: `${dashboard.endpoint}/v1/logs` });
  after(() => otlp.shutdown());
  const results: ExportResult[] = [];
  for (let round = 0; round < 2; round++) results.push(await new Promise<ExportResult>((resolve) => otlp.export(records, resolve)));
  assert.deepEqual(
    results.map((result) => result.code),
    [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
    results.map((result) => result.error?.message).join(', '),
  );
  assert.equal(lines.filter((line) => line.message.includes('OTLP logs received and dropped')).length, 1);
});

it('a metrics body is checked as a trace body is: wrong type 415, a truncated gzip 400', async () => {
  const wrongType = await fetch(`${dashboard.endpoint}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'x',
  });
  assert.equal(wrongType.status, 415);
  const truncated = await fetch(`${dashboard.endpoint}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
    body: new Uint8Array([0x1f, 0x8b, 0x08, 0x00]),
  });
  assert.equal(truncated.status, 400);
});
