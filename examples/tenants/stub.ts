/**
 * A stand-in for the external services the jobs call: storage provisioning and mail. Run it with the
 * telemetry hook so its SERVER spans continue the worker's traces:
 *
 *   node --import @pilotlight/otel/register examples/tenants/stub.ts
 *
 * `POST /storage/:tenantId` answers 503 the first time for a tenant whose id ends in '-flaky' (the
 * storage is "warming up"), then 201; `POST /mail` answers 202.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady, onShutdown, readConfig } from './src/config.ts';
import { flushTelemetry } from './src/telemetry.ts';

const config = readConfig();
const storageRequests = new Map<string, number>();
let mails = 0;

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    console.error('[stub] request failed:', error);
    if (!response.headersSent) reply(response, 500, { error: String(error) });
  });
});

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let body = '';
  for await (const chunk of request.setEncoding('utf8')) body += chunk as string;
  const url = new URL(request.url ?? '/', 'http://stub');
  const storage = /^\/storage\/([^/]+)$/.exec(url.pathname);
  if (request.method === 'POST' && storage) {
    const tenantId = decodeURIComponent(storage[1]!);
    const calls = (storageRequests.get(tenantId) ?? 0) + 1;
    storageRequests.set(tenantId, calls);
    if (tenantId.endsWith('-flaky') && calls === 1) return reply(response, 503, { error: `storage cluster for ${tenantId} is warming up` });
    return reply(response, 201, { bucket: `bucket-${tenantId}` });
  }
  if (request.method === 'POST' && url.pathname === '/mail') {
    JSON.parse(body || '{}');
    return reply(response, 202, { messageId: `mail-${++mails}` });
  }
  if (request.method === 'GET' && url.pathname === '/health') return reply(response, 200, { ok: true });
  reply(response, 404, { error: `no route for ${request.method} ${url.pathname}` });
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

server.listen(config.stubPort, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`[stub] storage/mail stub listening on http://127.0.0.1:${port}`);
  announceReady({ port });
});

onShutdown('stub', async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await flushTelemetry();
});
