/**
 * `node --import @pilotlight/otel/register app.ts`: the loader hook is registered before the app's
 * static imports, so express (named and default imports) and node:http are instrumented, and fetch()
 * is traced through undici's diagnostics channel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runChild } from './helpers/child.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';

describe('instrumentations with the --import form', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  it('traces fetch() → http server → express route in one trace', async () => {
    const result = await runChild(
      'http-app.ts',
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'http-app',
      },
      ['--import', '@pilotlight/otel/register'],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'status 200 {"id":"acme"}\n');
    const spans = receiver.spans();
    const names = spans.map((s) => s.name).sort();
    assert.deepEqual(names, ['GET', 'GET /api/tenants/:id', 'request handler']);
    const server = spans.find((s) => s.name === 'GET /api/tenants/:id');
    assert.equal(server?.attributes['http.route'], '/api/tenants/:id');
    assert.ok(spans.every((s) => s.serviceName === 'http-app'));
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace');
  });

  it('does not trace the OTLP exports a process receives (no feedback loop when it hosts a receiver)', async () => {
    const result = await runChild(
      'otlp-receiving-app.ts',
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'receiving-app' },
      ['--import', '@pilotlight/otel/register'],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'api 200, otlp 200\n');
    const spans = receiver.spans().filter((span) => span.serviceName === 'receiving-app');
    // The API request's SERVER span is there; the export got none (outgoing requests without a parent span are not traced).
    const serverPaths = spans.filter((span) => span.attributes['client.address'] !== undefined).map((span) => span.attributes['url.path']);
    assert.deepEqual(serverPaths, ['/api/status']);
  });
});
