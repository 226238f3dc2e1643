/**
 * Spans that ended just before shutdown are exported: telemetry.shutdown() flushes, and the register
 * form flushes on SIGTERM. The batch delay is set to one minute, so only a flush can deliver them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runChild, startChild } from './helpers/child.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';

describe('shutdown flushes', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  const env = (): Record<string, string> => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '60000',
  });

  it('telemetry.shutdown() exports the spans that ended just before it, even when the process then calls exit()', async () => {
    receiver.requests.length = 0;
    const result = await runChild('shutdown-flush.ts', env());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'shut down\n');
    const spans = receiver.spans();
    assert.deepEqual(spans.map((s) => s.name).sort(), ['child before shutdown', 'parent before shutdown']);
    assert.ok(
      spans.every((s) => s.serviceName === 'flush-child'),
      'options.serviceName is the resource service.name',
    );
  });

  it('SIGTERM to a process using the register form: spans are exported, then the process ends by the signal', async () => {
    receiver.requests.length = 0;
    const child = startChild('wait-for-signal.ts', { ...env(), OTEL_SERVICE_NAME: 'signal-child' });
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    const result = await child.done;
    assert.equal(result.signal, 'SIGTERM', `re-raised signal; got ${JSON.stringify(result)}`);
    assert.equal(result.stderr, '');
    assert.deepEqual(
      receiver.spans().map((s) => `${s.serviceName} ${s.name}`),
      ['signal-child span before signal'],
    );
  });

  it('SIGTERM handled by the application: the application ends the process, spans are still exported', async () => {
    receiver.requests.length = 0;
    const child = startChild('wait-for-signal.ts', { ...env(), OTEL_SERVICE_NAME: 'signal-child', APP_HANDLES_SIGTERM: '1' });
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    const result = await child.done;
    assert.equal(result.code, 0, `natural exit; got ${JSON.stringify(result)}`);
    assert.equal(result.stdout, 'ready\napp stopping\n');
    assert.deepEqual(
      receiver.spans().map((s) => s.name),
      ['span before signal'],
    );
  });
});
