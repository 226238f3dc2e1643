/** Both decoders on real spans: recorded by the OpenTelemetry SDK, serialized by the official OTLP serializers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import type { SpanRecord } from '../../src/spans/model.ts';
import { decodeTraces } from '../../src/traces/otlp/decode-traces.ts';
import {
  at,
  BASE_SECONDS,
  expectedRecords,
  jobScenario,
  jsonBody,
  protobufBody,
  recordSpans,
  type ReadableSpan,
} from './support/real-spans.ts';

/** Both encodings of `spans` decode to the records the SDK's spans call for. */
function decodesBoth(spans: readonly ReadableSpan[]): SpanRecord[] {
  const expected = expectedRecords(spans);
  const fromProtobuf = decodeTraces(protobufBody(spans), 'protobuf');
  assert.deepEqual(fromProtobuf, expected);
  assert.deepEqual(decodeTraces(jsonBody(spans), 'json'), expected);
  return fromProtobuf;
}

describe('decodeTraces() on real SDK spans', () => {
  it('gives the same exact records from protobuf and JSON', async () => {
    const records = decodesBoth(await recordSpans(jobScenario));
    assert.equal(records.length, 6);
    const byName = (name: string) => records.filter((record) => record.name === name);
    const [request] = byName('POST /api/tenants');
    const [enqueue] = byName('enqueue TenantService.provisionTenant');
    const [failed, retried] = byName('process TenantService.provisionTenant');
    const [db] = byName('db.insert tenants');
    // Checked against literal values too, not only against expectedRecords().
    assert.equal(request!.startUs, BASE_SECONDS * 1_000_000 + 123);
    assert.equal(request!.endUs, BASE_SECONDS * 1_000_000 + 25_000);
    assert.equal(request!.parentSpanId, undefined);
    assert.equal(request!.kind, 'server');
    assert.deepEqual(request!.attributes, {
      'http.request.method': 'POST',
      'http.response.status_code': 201,
      'tenant.ratio': 0.25,
      'tenant.trial': true,
      'tenant.tags': ['eu', 'beta'],
      'tenant.shards': [1, 2, 3],
      'tenant.weights': [1.5, -2.25],
      'tenant.flags': [true, false],
      'tenant.big': '1152921504606846976',
      'tenant.offset': -42,
      'tenant.empty': '',
    });
    assert.equal(enqueue!.parentSpanId, request!.spanId);
    assert.equal(enqueue!.kind, 'producer');
    assert.equal(failed!.parentSpanId, enqueue!.spanId);
    assert.equal(failed!.traceId, request!.traceId);
    assert.deepEqual(failed!.status, { code: 'error', message: 'storage not ready' });
    assert.deepEqual(
      failed!.events.map((event) => event.name),
      ['State Applied: Processing', 'exception', 'State Applied: Failed'],
      'events in time order, though added out of it',
    );
    assert.deepEqual(failed!.events[1]!.attributes, {
      'exception.type': 'TypeError',
      'exception.message': 'storage not ready',
      'exception.stacktrace':
        'TypeError: storage not ready\n    at provisionTenant (file:///app/jobs.js:12:11)\n    at async run (file:///app/worker.js:40:5)',
    });
    assert.deepEqual(failed!.links, [
      { traceId: enqueue!.traceId, spanId: enqueue!.spanId, attributes: { 'pilotlight.link': 'enqueue', 'pilotlight.attempt': 1 } },
    ]);
    assert.deepEqual(retried!.links, [{ traceId: enqueue!.traceId, spanId: enqueue!.spanId, attributes: {} }]);
    assert.deepEqual(db!.status, { code: 'ok' });
    assert.equal(db!.endUs - db!.startUs, 250);
    assert.deepEqual(request!.resource, { 'service.name': 'tenants-api', 'process.pid': 4242 });
    assert.deepEqual(request!.scope, { name: 'pilotlight', version: '0.1.0' });
    assert.ok(
      records.every((record) => record.resource === request!.resource && record.scope === request!.scope),
      'one resource and one scope object, shared',
    );
  });

  it('keeps each span with its own resource and scope across several of each', async () => {
    const api = await recordSpans(
      (tracer) => {
        tracer.startSpan('GET /tenants', { kind: SpanKind.SERVER, startTime: at(0) }).end(at(1));
      },
      {
        resource: { 'service.name': 'tenants-api', 'host.name': 'web-1', 'deployment.replicas': 3 },
        scope: { name: '@opentelemetry/instrumentation-http', version: '0.301.0' },
      },
    );
    const worker = await recordSpans(
      (tracer) => {
        tracer.startSpan('process A', { kind: SpanKind.CONSUMER, startTime: at(5, 999) }).end(at(6, 1001));
        tracer.startSpan('process B', { kind: SpanKind.CONSUMER, startTime: at(7) }).end(at(8));
      },
      { resource: { 'service.name': 'tenants-worker', 'process.runtime.version': '24.21.0' }, scope: { name: 'pilotlight-no-version' } },
    );
    const records = decodesBoth([...api, ...worker]);
    assert.deepEqual(
      records.map((record) => [record.name, record.resource['service.name'], record.scope]),
      [
        ['GET /tenants', 'tenants-api', { name: '@opentelemetry/instrumentation-http', version: '0.301.0' }],
        ['process A', 'tenants-worker', { name: 'pilotlight-no-version' }],
        ['process B', 'tenants-worker', { name: 'pilotlight-no-version' }],
      ],
    );
    assert.equal(records[1]!.startUs, BASE_SECONDS * 1_000_000 + 5_000);
    assert.equal(records[1]!.endUs, BASE_SECONDS * 1_000_000 + 6_001);
    assert.equal(records[1]!.resource, records[2]!.resource);
    assert.notEqual(records[0]!.resource, records[1]!.resource);
  });
});
