/**
 * `pilotlight dashboard`: the dashboard on its own, served by `node:http` until SIGINT or SIGTERM,
 * which close the server (open connections included), the dashboard (the spans received are written),
 * the trace store and then the store (exit 0). It receives OTLP traces unless `--no-traces`
 * (dashboard-traces.ts).
 *
 * On a loopback address (the default, 127.0.0.1) the dashboard's own rule applies: requests from
 * the machine itself only. On any other address the operator chose to be reachable, so every
 * request is authorized, and a warning says that there is no authentication.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError } from 'pilotlight';
import { integerOption, stringOption, usageError } from '../args.ts';
import type { Command, StoreContext } from '../command.ts';
import { print } from '../format.ts';
import { openTraces, TRACE_OPTIONS, traceSettings, type OpenTraces, type TraceSettings } from './dashboard-traces.ts';

const NAME = 'dashboard';
const DEFAULT_PORT = 4680;
const DEFAULT_HOST = '127.0.0.1';

interface Serve {
  readonly port: number;
  readonly host: string;
  readonly readOnly: boolean;
  readonly basePath: string;
  /** Undefined with `--no-traces`. */
  readonly traces: TraceSettings | undefined;
}

export const dashboardCommand: Command = {
  name: NAME,
  summary: `serve the dashboard (default http://${DEFAULT_HOST}:${DEFAULT_PORT}/) until Ctrl+C`,
  usage:
    '[--port N] [--host H] [--read-only] [--base-path P] [--traces FILE | --no-traces] [--trace-max-age AGE] [--trace-max-spans N] [--trace-url TEMPLATE]',
  details: [
    `On ${DEFAULT_HOST} (the default) only this machine can reach it. Another --host (0.0.0.0: every`,
    'interface) makes it reachable from the network with no authentication: put it behind a proxy',
    'that authenticates, or mount createDashboard() in your application with an authorize option.',
    '',
    'It receives OpenTelemetry traces (OTLP/HTTP, protobuf or JSON) on /v1/traces: set',
    'OTEL_EXPORTER_OTLP_ENDPOINT to the endpoint it prints in every process. The spans are kept beside',
    'the store (jobs.db: jobs.traces.db) or, on PostgreSQL, in its schema; 7 days and 1000000 spans at most.',
    '',
    'Examples:',
    '  pilotlight dashboard --sqlite pilotlight.db',
    '  pilotlight dashboard --postgres postgres://app@db:5432/app --port 8080 --read-only',
    "  pilotlight dashboard --sqlite pilotlight.db --trace-max-age 12h --trace-url 'http://localhost:16686/trace/{traceId}'",
    '  pilotlight dashboard --sqlite pilotlight.db --no-traces',
  ].join('\n'),
  options: {
    port: { type: 'string', value: 'N', description: `the port, 0 for any free one (default: ${DEFAULT_PORT})` },
    host: { type: 'string', value: 'H', description: `the address to listen on (default: ${DEFAULT_HOST})` },
    'read-only': { type: 'boolean', description: 'show no action and refuse every change' },
    'base-path': { type: 'string', value: 'P', description: "serve under this path, '/jobs' (default: the root)" },
    ...TRACE_OPTIONS,
  },
  json: false,
  positionals: false,
  prepare({ values }) {
    const serve: Serve = {
      port: integerOption(NAME, values, 'port', 0, 65_535, DEFAULT_PORT),
      host: stringOption(NAME, values, 'host') ?? DEFAULT_HOST,
      readOnly: values['read-only'] === true,
      basePath: (stringOption(NAME, values, 'base-path') ?? '').replace(/\/$/, ''),
      traces: traceSettings(NAME, values),
    };
    return (context) => dashboard(context, serve);
  },
};

async function dashboard(context: StoreContext, serve: Serve): Promise<number> {
  // Listening for the signals first: one that comes while the dashboard starts stops it once it has.
  const stopped = stopSignal();
  const traces = serve.traces && (await openTraces(serve.traces, context.choice, NAME));
  try {
    return await run(context, serve, traces, stopped);
  } finally {
    await traces?.close();
  }
}

async function run(
  { client }: StoreContext,
  serve: Serve,
  traces: OpenTraces | undefined,
  stopped: Promise<NodeJS.Signals>,
): Promise<number> {
  // Loaded here: the other commands never need the web pages.
  const { createDashboard } = await import('../../index.ts');
  const server = createServer();
  await listen(server, serve);
  const { address, port } = server.address() as AddressInfo;
  const loopback = isLoopback(address);
  let handler: ReturnType<typeof createDashboard>;
  try {
    handler = createDashboard({
      client,
      basePath: serve.basePath,
      readOnly: serve.readOnly,
      ...(loopback ? {} : { authorize: () => true }),
      ...(traces && { traces: traces.options }),
    });
  } catch (error) {
    await close(server);
    if (error instanceof ValidationError && /basePath/.test(error.message)) throw usageError(NAME, `--base-path: ${error.message}`);
    if (error instanceof ValidationError && /traces\.externalUrl/.test(error.message))
      throw usageError(NAME, `--trace-url: ${error.message}`);
    throw error;
  }
  // Under a base path, the rest of the server is nobody's: 404, where the dashboard would take a URL
  // outside its base path as one a framework had already stripped.
  server.on('request', (request, response) => {
    const path = (request.url ?? '/').split(/[?#]/, 1)[0]!;
    if (serve.basePath === '' || path === serve.basePath || path.startsWith(`${serve.basePath}/`)) return handler(request, response);
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`Not found. The dashboard is at ${serve.basePath}/\n`);
  });
  const host = address.includes(':') ? `[${address}]` : address;
  const origin = `http://${host}:${port}${serve.basePath}`;
  print(`Pilotlight dashboard: ${origin}/`);
  if (traces) {
    print(`OTLP endpoint: ${origin} (OTEL_EXPORTER_OTLP_ENDPOINT=${origin})`);
    print(`Traces: kept in ${traces.where}`);
  }
  if (!loopback) {
    process.stderr.write(
      `Warning: the dashboard listens on ${address}, reachable from the network, without authentication: ` +
        'anyone who reaches it can see and change every job. Use the default --host 127.0.0.1, put it behind an ' +
        'authenticating proxy, or mount createDashboard() in your application with an authorize option.\n',
    );
  }
  const signal = await stopped;
  await close(server);
  await handler.close();
  print(`Pilotlight dashboard stopped (${signal}).`);
  return 0;
}

/** Resolves once the server listens; its failures said in terms of the flags. */
async function listen(server: Server, { port, host }: Serve): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE') {
      throw usageError(NAME, `--port ${port}: ${host}:${port} is already in use. Pass another --port, or --port 0 for any free port`);
    }
    if (code === 'EACCES') throw usageError(NAME, `--port ${port}: not allowed to listen there (ports below 1024 need privileges)`);
    throw usageError(
      NAME,
      `--host ${host}: cannot listen there (${code ?? (error as Error).message}). Give an address of this machine: 127.0.0.1, or 0.0.0.0 for every interface`,
    );
  }
}

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address);
}

/**
 * Resolves at the first SIGINT or SIGTERM. The listeners stay until the process ends, so that the
 * same signal delivered again while the dashboard stops is ignored: Ctrl+C under `npx` reaches this
 * process twice, once from the terminal and once forwarded by npm.
 */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
}

/** Stops listening and ends every connection, idle or not. */
function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
