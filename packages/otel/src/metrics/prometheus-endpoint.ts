/**
 * The HTTP endpoint Prometheus scrapes: a `node:http` server that never keeps the process alive.
 *
 * The server is unref'd, and so is every connection it accepts: Prometheus holds its connection
 * open between scrapes (HTTP keep-alive), and a referenced socket would keep a worker that handles
 * SIGTERM itself running after it has stopped, until SIGKILL. A failure to listen (port taken) is
 * logged through OpenTelemetry's diagnostics, never thrown: the application runs without the endpoint.
 */
import { diag } from '@opentelemetry/api';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface PrometheusEndpointOptions {
  readonly host: string;
  readonly port: number;
  /** The path the metrics are served at; any other path answers 404. */
  readonly path: string;
  /** Writes the metrics to the response (the exporter's `getMetricsRequestHandler`). */
  readonly serveMetrics: (request: IncomingMessage, response: ServerResponse) => void;
}

export interface PrometheusEndpoint {
  /** Stops listening and closes every connection, a scrape in progress included. Safe to call twice. */
  close(): Promise<void>;
}

export function startPrometheusEndpoint(options: PrometheusEndpointOptions): PrometheusEndpoint {
  const { host, port, path, serveMetrics } = options;
  const server = createServer((request, response) => {
    const pathname = URL.parse(request.url ?? '', 'http://localhost')?.pathname;
    if (pathname === undefined) response.writeHead(400).end('Bad Request');
    else if (pathname === path) serveMetrics(request, response);
    else response.writeHead(404).end();
  });
  server.unref();
  server.on('connection', (socket) => socket.unref());
  server.on('error', (error: NodeJS.ErrnoException) => {
    diag.error(
      `@pilotlight/otel: the Prometheus endpoint cannot listen on ${host}:${port} (${error.code ?? error.message}): metrics are not served; ` +
        'set OTEL_EXPORTER_PROMETHEUS_PORT to a free port (or OTEL_EXPORTER_PROMETHEUS_HOST to an address of this host)',
    );
  });
  server.listen({ host, port }, () => diag.debug(`@pilotlight/otel: Prometheus endpoint listening on http://${host}:${port}${path}`));

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= new Promise((resolve) => {
        // The callback's error (the server never listened) needs no report: the listen error was logged.
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
