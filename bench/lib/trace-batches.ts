import { hostname } from 'node:os';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Tracer } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * The OTLP request bodies the traces bench sends: real SDK spans (sdk-trace v3's `TracerProvider`,
 * the former `BasicTracerProvider`, with an `InMemorySpanExporter`) shaped like the traces a
 * Pilotlight worker exports, serialized by the protobuf exporter's own `ProtobufTraceSerializer`.
 * Built before any clock starts; every span has ids of its own (the SDK's random ids), so no request
 * is an exporter's retry of another.
 */

/** One exporter's POST body: `spans` spans of one resource, `application/x-protobuf`. */
export interface OtlpBatch {
  readonly body: Uint8Array;
  readonly spans: number;
}

/** Spans per request, as the BatchSpanProcessor's default `maxExportBatchSize`. */
export const BATCH_SPANS = 512;

/** The span names and attributes of a job attempt, as Pilotlight's tracing filter and common instrumentations write them. */
const JOB_TYPES = ['TenantService', 'WelcomeService', 'BillingService', 'ReportService'] as const;

/**
 * One attempt of a job on a worker, as the worker process exports it: the `process …` CONSUMER span
 * (messaging and `pilotlight.*` attributes, State Applied events), child of the enqueue span of
 * another process, with database CLIENT spans and an HTTP CLIENT span under it. 6 spans.
 */
function jobAttempt(tracer: Tracer, n: number, startMs: number): void {
  const type = JOB_TYPES[n % JOB_TYPES.length]!;
  const jobId = `0193${n.toString(16).padStart(8, '0')}-7abc-8def-0123456789ab`;
  const creation = trace.setSpanContext(context.active(), {
    traceId: randomHex(32),
    spanId: randomHex(16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
  const failed = n % 20 === 0;
  const attempt = tracer.startSpan(
    `process ${type}.perform`,
    {
      kind: SpanKind.CONSUMER,
      startTime: startMs,
      links: [{ context: trace.getSpanContext(creation)! }],
      attributes: {
        'messaging.system': 'pilotlight',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': 'default',
        'messaging.message.id': jobId,
        'messaging.client.id': 'worker-1',
        'pilotlight.job.id': jobId,
        'pilotlight.job.type': type,
        'pilotlight.job.method': 'perform',
        'pilotlight.server.name': 'worker-1',
        'pilotlight.job.attempt': failed ? 1 : 1 + (n % 3 === 0 ? 1 : 0),
        'pilotlight.retry.count': 0,
        'pilotlight.queue.wait_ms': n % 50,
      },
    },
    creation,
  );
  attempt.addEvent('State Applied: Processing', { 'pilotlight.state.new': 'Processing', 'pilotlight.state.old': 'Enqueued' }, startMs);
  const inAttempt: Context = trace.setSpan(context.active(), attempt);
  const child = (name: string, kind: SpanKind, from: number, to: number, attributes: Record<string, string | number>) =>
    tracer.startSpan(name, { kind, startTime: startMs + from, attributes }, inAttempt).end(startMs + to);
  child('db.insert tenants', SpanKind.CLIENT, 0.2, 1.1, {
    'db.system.name': 'sqlite',
    'db.operation.name': 'INSERT',
    'db.collection.name': 'tenants',
    'db.query.text': 'INSERT INTO tenants (id, name, plan, created_at) VALUES (?, ?, ?, ?)',
  });
  child('POST', SpanKind.CLIENT, 1.2, 4.8, {
    'http.request.method': 'POST',
    'url.full': `http://storage.internal:8080/buckets/tenant-${n}`,
    'server.address': 'storage.internal',
    'server.port': 8080,
    'http.response.status_code': failed ? 503 : 201,
    'network.protocol.version': '1.1',
  });
  child('db.insert tenant_settings', SpanKind.CLIENT, 5.0, 5.6, {
    'db.system.name': 'sqlite',
    'db.operation.name': 'INSERT',
    'db.collection.name': 'tenant_settings',
    'db.query.text': 'INSERT INTO tenant_settings (tenant_id, key, value) VALUES (?, ?, ?)',
  });
  child('db.update tenants', SpanKind.CLIENT, 5.7, 6.3, {
    'db.system.name': 'sqlite',
    'db.operation.name': 'UPDATE',
    'db.collection.name': 'tenants',
    'db.query.text': 'UPDATE tenants SET ready = 1 WHERE id = ?',
  });
  child('db.select tenant_quota', SpanKind.CLIENT, 6.4, 6.7, {
    'db.system.name': 'sqlite',
    'db.operation.name': 'SELECT',
    'db.collection.name': 'tenant_quota',
    'db.query.text': 'SELECT quota FROM tenant_quota WHERE tenant_id = ?',
  });
  if (failed) {
    attempt.recordException(
      {
        name: 'Error',
        message: `storage for tenant-${n} is not ready yet`,
        stack: `Error: storage for tenant-${n} is not ready yet\n    at provision (file:///app/jobs/tenants.js:42:11)\n    at async perform (file:///app/worker.js:88:5)`,
      },
      startMs + 6.8,
    );
    attempt.setAttribute('error.type', 'Error');
    attempt.setStatus({ code: SpanStatusCode.ERROR, message: `storage for tenant-${n} is not ready yet` });
    attempt.addEvent(
      'State Applied: Scheduled',
      { 'pilotlight.state.new': 'Scheduled', 'pilotlight.state.old': 'Processing', 'pilotlight.state.reason': 'Retry 1 of 10' },
      startMs + 7,
    );
  } else {
    attempt.addEvent(
      'State Applied: Succeeded',
      { 'pilotlight.state.new': 'Succeeded', 'pilotlight.state.old': 'Processing' },
      startMs + 7,
    );
  }
  attempt.end(startMs + 7);
}

function randomHex(digits: number): string {
  let hex = '';
  while (hex.length < digits)
    hex += Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return hex.slice(0, digits);
}

/**
 * At least `spans` spans as protobuf bodies of {@link BATCH_SPANS} spans each, from `exporters`
 * worker processes (a resource each: `service.name` tenants-worker, its own `process.pid`,
 * `host.name`), the bodies of the exporters interleaved. Spans come in the order the SDK ends them
 * (children first), so a trace may straddle two bodies, as with a BatchSpanProcessor.
 */
export async function buildBatches(spans: number, exporters: number): Promise<OtlpBatch[]> {
  const perExporter = Math.ceil(spans / BATCH_SPANS / exporters);
  const byExporter: OtlpBatch[][] = [];
  for (let e = 0; e < exporters; e++) byExporter.push(await exporterBatches(perExporter, e));
  const batches: OtlpBatch[] = [];
  for (let i = 0; i < perExporter; i++) for (const own of byExporter) batches.push(own[i]!);
  return batches;
}

/** Numbers the attempts of every exporter (their job ids and the mix of outcomes). */
let attempts = 0;

async function exporterBatches(count: number, index: number): Promise<OtlpBatch[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'tenants-worker',
      'service.version': '1.4.2',
      'process.pid': 40_000 + index,
      'process.runtime.name': 'nodejs',
      'process.runtime.version': process.versions.node,
      'host.name': hostname(),
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('pilotlight', '0.1.0');
  const batches: OtlpBatch[] = [];
  let finished: ReadableSpan[] = [];
  // Recent times (retention keeps them), 10 ms apart.
  let startMs = Date.now() - 600_000;
  while (batches.length < count) {
    while (finished.length + exporter.getFinishedSpans().length < BATCH_SPANS) {
      jobAttempt(tracer, attempts++, startMs);
      startMs += 10;
      // The SimpleSpanProcessor exports asynchronously.
      if (attempts % 16 === 0) await provider.forceFlush();
    }
    await provider.forceFlush();
    finished = finished.concat(exporter.getFinishedSpans());
    exporter.reset();
    if (finished.length < BATCH_SPANS) continue;
    batches.push({ body: ProtobufTraceSerializer.serializeRequest(finished.slice(0, BATCH_SPANS))!, spans: BATCH_SPANS });
    finished = finished.slice(BATCH_SPANS);
  }
  await provider.shutdown();
  return batches;
}
