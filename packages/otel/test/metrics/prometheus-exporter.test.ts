/**
 * PilotlightPrometheusExporter in this process, on a real MeterProvider: the metrics at /metrics of
 * its own endpoint, the resource's asynchronous attributes awaited before a scrape is serialised, a
 * port already taken logged (never thrown), and the endpoint closed at shutdown.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PilotlightPrometheusExporter } from '../../src/metrics/prometheus-exporter.ts';
import { captureDiag, type DiagCapture } from '../helpers/diag.ts';
import { freePort } from '../helpers/free-port.ts';
import { pollUntil } from '../helpers/poll.ts';

const HOST = '127.0.0.1';

describe('PilotlightPrometheusExporter', () => {
  let logs: DiagCapture;
  let providers: MeterProvider[];
  beforeEach(() => {
    logs = captureDiag();
    providers = [];
  });
  afterEach(async () => {
    await Promise.all(providers.map((provider) => provider.shutdown()));
    logs.restore();
  });

  /** A MeterProvider whose only reader is an exporter on `port`. */
  const start = (port: number, resource: Resource = resourceFromAttributes({ 'service.name': 'exporter-test' })): MeterProvider => {
    const provider = new MeterProvider({ resource, readers: [new PilotlightPrometheusExporter({ host: HOST, port })] });
    providers.push(provider);
    return provider;
  };
  /** The body of GET `path`, once the endpoint listens. */
  const scrape = (port: number, path = '/metrics'): Promise<{ status: number; text: string }> =>
    pollUntil(`GET ${path} to be answered`, async () => {
      const response = await fetch(`http://${HOST}:${port}${path}`);
      return { met: true, value: { status: response.status, text: await response.text() } };
    });

  it('serves the metrics at /metrics, 404 elsewhere', async () => {
    const port = await freePort();
    start(port).getMeter('test').createCounter('test.runs').add(3, { 'test.kind': 'unit' });
    const { status, text } = await scrape(port);
    assert.equal(status, 200);
    assert.match(text, /^test_runs_total\{[^}]*test_kind="unit"[^}]*\} 3$/m);
    assert.match(text, /^target_info\{.*service_name="exporter-test"/m);
    assert.equal((await scrape(port, '/')).status, 404);
  });

  it('waits for the resource’s asynchronous attributes (resource detectors) before it serialises a scrape', async () => {
    const port = await freePort();
    // Settled already, but a promise: without the wait, the resource would still count it as pending.
    start(port, resourceFromAttributes({ 'service.name': 'exporter-test', 'deployment.slot': Promise.resolve('blue') }));
    for (let n = 0; n < 3; n++) {
      assert.match((await scrape(port)).text, /^target_info\{.*deployment_slot="blue"/m);
    }
    assert.deepEqual(
      logs.lines.filter((line) => line.includes('before async attributes settled')),
      [],
    );
  });

  it('logs a port already taken, naming it and OTEL_EXPORTER_PROMETHEUS_PORT, without throwing', async () => {
    const taken = createServer().listen(0, HOST);
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    try {
      const provider = start(port);
      const line = await pollUntil('the listen error to be logged', async () => {
        const found = logs.lines.find((l) => l.startsWith('error: ') && l.includes('Prometheus'));
        return found === undefined ? { met: false, seen: JSON.stringify(logs.lines) } : { met: true, value: found };
      });
      assert.equal(
        line,
        `error: @pilotlight/otel: the Prometheus endpoint cannot listen on ${HOST}:${port} (EADDRINUSE): metrics are not served; ` +
          'set OTEL_EXPORTER_PROMETHEUS_PORT to a free port (or OTEL_EXPORTER_PROMETHEUS_HOST to an address of this host)',
      );
      // The application goes on: metrics are still recorded, shutdown resolves.
      provider.getMeter('test').createCounter('test.runs').add(1);
      await provider.shutdown();
    } finally {
      taken.close();
    }
  });

  it('closes the endpoint, and the connection a scraper keeps open, when the MeterProvider shuts down', async () => {
    const port = await freePort();
    const provider = start(port);
    const socket = await pollUntil('a connection to the endpoint', async () => ({ met: true, value: await open(port) }));
    // One scrape on a kept-alive connection, as Prometheus makes them.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request({ createConnection: () => socket, path: '/metrics', headers: { connection: 'keep-alive' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 200);
    assert.equal(socket.destroyed, false, 'the connection is kept alive after the scrape');
    const closed = once(socket, 'close');
    await provider.shutdown();
    await closed;
    await assert.rejects(
      fetch(`http://${HOST}:${port}/metrics`),
      (error: Error) => (error.cause as { code?: string }).code === 'ECONNREFUSED',
    );
  });
});

async function open(port: number): Promise<Socket> {
  const socket = connect(port, HOST);
  await once(socket, 'connect');
  return socket;
}
