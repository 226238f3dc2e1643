/**
 * createMetricReadersFromEnv(): the readers OTEL_METRICS_EXPORTER names, as the Node SDK builds them,
 * with `prometheus` served by PilotlightPrometheusExporter. Real readers on a real MeterProvider,
 * exporting to a local OTLP receiver and scraped over HTTP.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createMetricReadersFromEnv } from '../../src/metrics/metric-readers.ts';
import { PilotlightPrometheusExporter } from '../../src/metrics/prometheus-exporter.ts';
import { captureDiag, type DiagCapture } from '../helpers/diag.ts';
import { freePort } from '../helpers/free-port.ts';
import { pollUntil } from '../helpers/poll.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

describe('createMetricReadersFromEnv()', () => {
  let receiver: Receiver;
  let logs: DiagCapture;
  let restoreEnv: () => void;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());
  beforeEach(() => {
    logs = captureDiag();
    restoreEnv = () => undefined;
  });
  afterEach(() => {
    restoreEnv();
    logs.restore();
  });

  /** Sets these variables (and only the OTEL_* given) until the end of the test. */
  const setEnv = (vars: Record<string, string>): void => {
    const saved = Object.fromEntries(
      Object.keys(process.env)
        .filter((key) => key.startsWith('OTEL_'))
        .map((key) => [key, process.env[key]]),
    );
    for (const key of Object.keys(saved)) delete process.env[key];
    Object.assign(process.env, vars);
    restoreEnv = () => {
      for (const key of Object.keys(process.env).filter((k) => k.startsWith('OTEL_'))) delete process.env[key];
      Object.assign(process.env, saved);
    };
  };
  const kinds = (readers: object[]): string[] =>
    readers.map((reader) =>
      reader instanceof PilotlightPrometheusExporter
        ? 'prometheus'
        : reader instanceof PeriodicExportingMetricReader
          ? 'periodic'
          : 'other',
    );

  it('otlp and prometheus together: the OTLP receiver gets the metrics, and the endpoint on OTEL_EXPORTER_PROMETHEUS_HOST/PORT serves them', async () => {
    const port = await freePort();
    setEnv({
      OTEL_METRICS_EXPORTER: 'otlp, prometheus,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    });
    const readers = createMetricReadersFromEnv();
    assert.deepEqual(kinds(readers), ['periodic', 'prometheus'], 'each name once, in order');
    const provider = new MeterProvider({ readers });
    try {
      provider.getMeter('test').createCounter('test.runs').add(2);
      await provider.forceFlush();
      assert.ok(receiver.metricNames().includes('test.runs'), `metrics received: ${receiver.metricNames().join(', ')}`);
      assert.ok(receiver.requests.every((r) => r.path === '/v1/metrics' && r.contentType.startsWith('application/json')));
      const text = await pollUntil('the Prometheus endpoint to answer', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        return { met: true, value: await response.text() };
      });
      assert.match(text, /^test_runs_total\{[^}]*\} 2$/m);
    } finally {
      await provider.shutdown();
    }
    assert.deepEqual(
      logs.lines.filter((line) => !line.startsWith('debug: ') && !line.startsWith('verbose: ')),
      [],
    );
  });

  it('unset or empty: otlp; `none` anywhere: no reader', () => {
    for (const value of [undefined, '', ' , ']) {
      setEnv(value === undefined ? {} : { OTEL_METRICS_EXPORTER: value });
      assert.deepEqual(kinds(createMetricReadersFromEnv()), ['periodic'], `OTEL_METRICS_EXPORTER=${JSON.stringify(value)}`);
      restoreEnv();
    }
    setEnv({ OTEL_METRICS_EXPORTER: 'prometheus,none' });
    assert.deepEqual(createMetricReadersFromEnv(), []);
  });

  it('warns about an unknown exporter, an unknown protocol, and a timeout longer than the interval', () => {
    setEnv({
      OTEL_METRICS_EXPORTER: 'console,statsd,otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_METRIC_EXPORT_TIMEOUT: '5000',
    });
    assert.deepEqual(kinds(createMetricReadersFromEnv()), ['periodic', 'periodic']);
    assert.deepEqual(
      logs.lines.filter((line) => line.startsWith('warn: ')),
      [
        'warn: @pilotlight/otel: OTEL_METRICS_EXPORTER value "statsd" is not supported (otlp, console, prometheus, none); ignored',
        'warn: @pilotlight/otel: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL "thrift" is not supported (http/protobuf, http/json, grpc); using http/protobuf',
        'warn: @pilotlight/otel: OTEL_METRIC_EXPORT_TIMEOUT (5000) is greater than OTEL_METRIC_EXPORT_INTERVAL (1000); using the interval as the timeout',
      ],
    );
  });
});
