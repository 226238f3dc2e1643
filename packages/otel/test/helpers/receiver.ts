/**
 * A local OTLP/HTTP receiver for the tests: a node:http server on 127.0.0.1 that accepts every
 * POST, answers 200 and keeps what it received. Spans and metrics are decoded from OTLP/JSON.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

export interface ReceivedSpan {
  readonly name: string;
  readonly traceId: string;
  readonly serviceName: string | undefined;
  readonly resource: Record<string, unknown>;
  readonly attributes: Record<string, unknown>;
}

export interface Receiver {
  readonly endpoint: string;
  readonly requests: ReceivedRequest[];
  spans(): ReceivedSpan[];
  metricNames(): string[];
  close(): Promise<void>;
}

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const json = (path: string): any[] => requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body.toString('utf8')));

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    spans() {
      return json('/v1/traces').flatMap((body) =>
        (body.resourceSpans ?? []).flatMap((rs: any) => {
          const resource = attributes(rs.resource?.attributes);
          return (rs.scopeSpans ?? []).flatMap((ss: any) =>
            (ss.spans ?? []).map((span: any) => ({
              name: span.name,
              traceId: span.traceId,
              serviceName: resource['service.name'] as string | undefined,
              resource,
              attributes: attributes(span.attributes),
            })),
          );
        }),
      );
    },
    metricNames() {
      return json('/v1/metrics').flatMap((body) =>
        (body.resourceMetrics ?? []).flatMap((rm: any) =>
          (rm.scopeMetrics ?? []).flatMap((sm: any) => (sm.metrics ?? []).map((m: any) => m.name as string)),
        ),
      );
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function attributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) result[key] = Object.values(value)[0];
  return result;
}
