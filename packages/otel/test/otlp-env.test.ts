/**
 * Configuration by environment variables ALONE: a child process imports '@pilotlight/otel/register',
 * creates a span, and exits on its own; a local OTLP receiver checks what arrived.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runChild } from './helpers/child.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';

describe('OTLP export configured by OTEL_* environment variables', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'otel-env-child',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,service.namespace=pilotlight',
    ...extra,
  });

  it('exports the span and a metric, with service.name and OTEL_RESOURCE_ATTRIBUTES, when the child exits on its own', async () => {
    receiver.requests.length = 0;
    const result = await runChild('span-and-exit.ts', env());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    // An OTLP endpoint is configured: no console tree by default.
    assert.equal(result.stdout, 'child done\n');

    const spans = receiver.spans();
    assert.deepEqual(
      spans.map((s) => s.name),
      ['child work'],
    );
    const [span] = spans;
    assert.equal(span?.serviceName, 'otel-env-child');
    assert.equal(span?.resource['deployment.environment.name'], 'test');
    assert.equal(span?.resource['service.namespace'], 'pilotlight');
    assert.equal(span?.attributes['test.attr'], 'yes');
    assert.ok(
      receiver.requests.every((r) => r.contentType.startsWith('application/json')),
      'http/json protocol',
    );
    assert.ok(receiver.metricNames().includes('test.runs'), `metrics received: ${receiver.metricNames().join(', ')}`);
  });

  it('sends protobuf by default (no OTEL_EXPORTER_OTLP_PROTOCOL)', async () => {
    receiver.requests.length = 0;
    const result = await runChild('span-and-exit.ts', { ...env(), OTEL_EXPORTER_OTLP_PROTOCOL: '' });
    assert.equal(result.code, 0, result.stderr);
    const traces = receiver.requests.filter((r) => r.path === '/v1/traces');
    assert.equal(traces.length, 1);
    assert.equal(traces[0]?.contentType, 'application/x-protobuf');
    assert.ok(traces[0]?.body.includes('child work'), 'the span name is in the protobuf body');
    assert.ok(traces[0]?.body.includes('otel-env-child'), 'the service name is in the protobuf body');
  });

  it('exports nothing and prints nothing with OTEL_SDK_DISABLED=true', async () => {
    receiver.requests.length = 0;
    const result = await runChild('span-and-exit.ts', env({ OTEL_SDK_DISABLED: 'true' }));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'child done\n');
    assert.equal(result.stderr, '');
    assert.deepEqual(receiver.requests, []);
  });

  it('honours OTEL_TRACES_SAMPLER: always_off records no span', async () => {
    receiver.requests.length = 0;
    const result = await runChild('span-and-exit.ts', env({ OTEL_TRACES_SAMPLER: 'always_off' }));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(receiver.spans(), []);
  });

  it('prints the console trace tree and sends nothing when no endpoint is configured', async () => {
    receiver.requests.length = 0;
    const result = await runChild('span-and-exit.ts', { OTEL_SERVICE_NAME: 'otel-env-child' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^child done\ntrace [0-9a-f]{32}\nchild work {2}\[INTERNAL\] {2}\d+\.\d+ ms\n {3}· State Applied: Succeeded\n$/,
    );
    assert.deepEqual(receiver.requests, []);
  });

  it('prints no tree when OTEL_TRACES_EXPORTER is set, even to none or console with no endpoint', async () => {
    const none = await runChild('span-and-exit.ts', { OTEL_TRACES_EXPORTER: 'none' });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'child done\n');
    assert.equal(none.stderr, '');
    const console = await runChild('span-and-exit.ts', { OTEL_TRACES_EXPORTER: 'console' });
    assert.equal(console.code, 0, console.stderr);
    // The SDK's ConsoleSpanExporter prints the span as an object; the tree's "trace <id>" heading is absent.
    assert.match(console.stdout, /name: 'child work'/);
    assert.doesNotMatch(console.stdout, /^trace [0-9a-f]{32}$/m);
  });

  it('prints the tree with the console option true, whatever OTEL_TRACES_EXPORTER says', async () => {
    const result = await runChild('span-with-console-option.ts', { OTEL_TRACES_EXPORTER: 'none' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'the span that ended just before shutdown() is printed, not refused by a shut-down exporter');
    assert.match(result.stdout, /^trace [0-9a-f]{32}\nforced tree {2}\[INTERNAL\] {2}\d+\.\d+ ms\nchild done\n$/);
  });
});
