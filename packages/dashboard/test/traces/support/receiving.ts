/**
 * What the receiver and ingest tests share: a real SQLite trace store in a file of its own, a trace
 * store wrapper whose writes wait at a gate or fail on demand (the real store underneath), the
 * dashboard served by node:http on port 0, a logger that keeps what it was told, and a POST of an
 * OTLP body.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Logger } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { createDashboard, createSqliteTraceStore, type DashboardOptions, type TraceStore } from '../../../src/index.ts';
import { tempDir, waitFor } from '../../../../pilotlight/test/support/helpers.ts';

export { waitFor };

/** A real SQLite trace store in a fresh directory, closed after the test file. */
export async function tempTraceStore(): Promise<TraceStore> {
  const store = await createSqliteTraceStore({ path: join(tempDir(), 'traces.db') });
  after(() => store.close());
  return store;
}

/** `store`, with some methods replaced; every other call goes to the real store. */
export function wrapTraceStore(store: TraceStore, overrides: Partial<TraceStore>): TraceStore {
  return { ...bound(store), ...overrides };
}

function bound(store: TraceStore): TraceStore {
  return {
    write: (spans) => store.write(spans),
    getTrace: (traceId, limit) => store.getTrace(traceId, limit),
    findSpans: (query) => store.findSpans(query),
    listServices: () => store.listServices(),
    prune: (retention) => store.prune(retention),
    countSpans: () => store.countSpans(),
    close: () => store.close(),
  };
}

/**
 * A trace store whose writes wait while the gate is shut (each then goes on to the real store), and
 * fail with `failure` while it is set. `writes` holds the size of each write, in call order.
 */
export function gatedStore(store: TraceStore) {
  let opened: Promise<void> = Promise.resolve();
  let release = () => {};
  const gated = {
    writes: [] as number[],
    /** The writes under way at the moment (the ingest must keep this at 0 or 1, prunes included). */
    active: 0,
    maxActive: 0,
    prunes: 0,
    failure: undefined as Error | undefined,
    shut(): void {
      opened = new Promise((resolve) => (release = resolve));
    },
    open(): void {
      release();
      opened = Promise.resolve();
    },
    store: wrapTraceStore(store, {
      async write(spans) {
        gated.writes.push(spans.length);
        await serial(async () => {
          await opened;
          if (gated.failure) throw gated.failure;
          await store.write(spans);
        });
      },
      async prune(retention) {
        gated.prunes += 1;
        return serial(() => store.prune(retention));
      },
    }),
  };
  async function serial<T>(work: () => Promise<T>): Promise<T> {
    gated.active += 1;
    gated.maxActive = Math.max(gated.maxActive, gated.active);
    try {
      return await work();
    } finally {
      gated.active -= 1;
    }
  }
  return gated;
}

/** A logger that keeps every message, by level. */
export function recordingLogger() {
  const lines: { level: keyof Logger; message: string; details?: Record<string, unknown> }[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string, details?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(details && { details }) });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines, errors: () => lines.filter((line) => line.level === 'error') };
}

/**
 * The dashboard on a real SQLite jobs store and `options`, served by node:http on port 0 (closed
 * after the test file). `endpoint` is what an exporter's `OTEL_EXPORTER_OTLP_ENDPOINT` would be.
 */
export async function serveDashboard(options: Omit<DashboardOptions, 'store' | 'client'>) {
  const store = createSqliteStore({ path: join(tempDir(), 'jobs.db') });
  const dashboard = createDashboard({ store, ...options });
  const server = createServer(dashboard).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  /** Every request's headers and the status it was answered (undefined: none, the client went away), as each ended. */
  const answered: { readonly headers: IncomingHttpHeaders; readonly status: number | undefined; readonly retryAfter: unknown }[] = [];
  server.on('request', (req, res) =>
    res.on('close', () =>
      answered.push({
        headers: req.headers,
        status: res.writableFinished ? res.statusCode : undefined,
        retryAfter: res.getHeader('retry-after'),
      }),
    ),
  );
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}${options.basePath ?? ''}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await dashboard.close();
    await store.close();
  };
  after(close);
  return { endpoint, url: `${endpoint}/v1/traces`, dashboard, answered, close };
}

export interface OtlpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** POSTs `body` to `url` with `headers` (Content-Type protobuf unless given). */
export async function postOtlp(url: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<OtlpAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}
