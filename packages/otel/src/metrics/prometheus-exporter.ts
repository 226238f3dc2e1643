/**
 * The SDK's Prometheus exporter (`@opentelemetry/exporter-prometheus`), with two changes:
 *
 * - its metrics are served by our endpoint (see prometheus-endpoint.ts), whose connections never
 *   keep the process alive, instead of the exporter's own server, whose keep-alive connections do;
 *   the endpoint closes when the MeterProvider shuts down;
 * - each collection waits for the resource's asynchronous attributes (from the resource detectors)
 *   before the exporter serialises it: without this, every scrape that comes before they have
 *   settled logs "Accessing resource attributes before async attributes settled"
 *   (open-telemetry/opentelemetry-js#5828).
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { startPrometheusEndpoint, type PrometheusEndpoint } from './prometheus-endpoint.ts';

export interface PrometheusAddress {
  readonly host: string;
  readonly port: number;
}

export class PilotlightPrometheusExporter extends PrometheusExporter {
  readonly #endpoint: PrometheusEndpoint;

  constructor({ host, port }: PrometheusAddress) {
    super({ host, port, preventServerStart: true });
    this.#endpoint = startPrometheusEndpoint({
      host,
      port,
      path: PrometheusExporter.DEFAULT_OPTIONS.endpoint,
      serveMetrics: (request, response) => this.getMetricsRequestHandler(request, response),
    });
  }

  override async collect(...args: Parameters<PrometheusExporter['collect']>): ReturnType<PrometheusExporter['collect']> {
    const result = await super.collect(...args);
    await result.resourceMetrics.resource.waitForAsyncAttributes?.();
    return result;
  }

  override async onShutdown(): Promise<void> {
    // The exporter's own server never started: its stopServer() has nothing to do but is harmless.
    await Promise.all([super.onShutdown(), this.#endpoint.close()]);
  }
}
