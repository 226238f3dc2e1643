/**
 * The dashboard process ('tenants-dashboard'): Pilotlight's dashboard on the shared job store, and
 * the OTLP receiver the other processes export their spans to (their OTEL_EXPORTER_OTLP_ENDPOINT is
 * this server's URL), so each job's page shows its whole trace.
 *
 *   node examples/tenants/dashboard.ts     (inside the repository: with --conditions=@pilotlight/source)
 *
 * It runs without the telemetry hook on purpose: it is the trace viewer, and tracing its own page
 * loads (the overview polls every 2 s) would fill the trace store with traces of itself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboard, createSqliteTraceStore } from '@pilotlight/dashboard';
import { createSqliteStore } from 'pilotlight/sqlite';
import { announceReady, onShutdown, readConfig } from './src/config.ts';

const config = readConfig();
const store = createSqliteStore({ path: config.jobsDbPath });
const traces = createSqliteTraceStore({ path: config.tracesDbPath });
const dashboard = createDashboard({ store, traces: { store: traces } });

const server = createServer(dashboard).listen(config.dashboardPort, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`[dashboard] dashboard and OTLP receiver on http://127.0.0.1:${port}`);
  announceReady({ port });
});

onShutdown('dashboard', async () => {
  server.close(); // no new connections
  await dashboard.close(); // the requests under way are answered, the spans received written
  // What is left are idle sockets: a browser's keep-alive and preconnected ones (which never sent a
  // request, so closeIdleConnections() would leave them to their timeout).
  server.closeAllConnections();
  await traces.close();
  await store.close();
});
