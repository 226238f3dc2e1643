import type { IncomingMessage } from 'node:http';
import { createClient, ValidationError, type Client, type JobRecord, type Logger, type Store } from 'pilotlight';
import { DEFAULTS } from './defaults.ts';
import { describeValue } from './describe-value.ts';
import { resolveTraces, type DashboardTracesOptions, type TracesConfig } from './traces-options.ts';

/**
 * What `authorize` answers for a request: `true` (everything), `'read-only'` (every page, no
 * action), `false` (403).
 */
export type DashboardAccess = boolean | 'read-only';

/** What `redact` is asked to show: a job's arguments, or what its handler returned (a Succeeded job's result). */
export type RedactedPart = 'arguments' | 'result';

/** Options of `createDashboard()`. Give `store` or `client`. */
export interface DashboardOptions<Request extends IncomingMessage = IncomingMessage> {
  /**
   * The store to show and act on; the dashboard makes a client of its own for it. Give this or `client`.
   * @default undefined: then `client` is required
   */
  readonly store?: Store<unknown>;
  /**
   * Your application's client instead of `store`: the dashboard's actions (requeue, delete,
   * trigger) then run through its filters and tracing, like your own calls. Give this or `store`.
   * @default undefined: then `store` is required
   */
  readonly client?: Client<unknown>;
  /**
   * The path the dashboard is mounted under (`'/admin/jobs'`): its links are generated under it, and
   * a request whose URL starts with it has it stripped (a framework that strips the mount path
   * itself, like Express's `app.use(path, handler)`, works as well). `''` or a path of segments of
   * letters, digits, `-`, `_`, `.`, `~`, without a trailing `/`.
   * @default '' (the root)
   */
  readonly basePath?: string;
  /**
   * Who may see and do what, for each request (your session or token check): `true`, `'read-only'`
   * or `false` (answered 403), or a promise of it. Without it, only requests from the machine itself
   * are served (remote address `127.0.0.1`, `::1` or `::ffff:127.0.0.1`), as Hangfire's
   * `LocalRequestsOnlyAuthorizationFilter` does; behind a proxy on the same machine every request
   * looks local, so give `authorize` there.
   * @default undefined: local requests only, with every action
   */
  readonly authorize?: (request: Request) => DashboardAccess | Promise<DashboardAccess>;
  /**
   * Hide every action (requeue, delete, trigger, remove, bulk, pause and resume a queue) and refuse
   * every POST with 403, for everyone; a banner says so.
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * What the job page shows in place of a job's arguments and of its result (what a Succeeded job's
   * handler returned): it receives the value parsed (or, when what is stored is not JSON, the stored
   * text), the job, and which of the two it is (`'arguments'` or `'result'`); what it returns is
   * shown as JSON. Hide secrets and personal data here
   * (`(value, job) => job.type === 'email.send' ? '[hidden]' : value`). A function written for the
   * arguments alone, which ignores the third parameter, is given the result too: it hides the results
   * of the jobs it hides the arguments of. When it throws, the value is hidden and the error logged.
   * @default the arguments and the result as stored
   */
  readonly redact?: (value: unknown, job: JobRecord, part: RedactedPart) => unknown;
  /**
   * Where errors go: a store failing a page (answered 500), a throwing `authorize` or `redact`.
   * @default console warnings and errors, prefixed `[pilotlight]`
   */
  readonly logger?: Logger;
  /**
   * Receive OpenTelemetry traces (OTLP/HTTP on `{basePath}/v1/traces`) into a trace store and show
   * them: each job's whole trace on its page, the traces and tasks pages.
   * @default undefined: no receiver (404 on `/v1/traces`); job pages show the trace id only
   */
  readonly traces?: DashboardTracesOptions;
}

/** The options after validation, with their defaults applied. */
export interface DashboardConfig {
  readonly client: Client<unknown>;
  readonly store: Store<unknown>;
  readonly basePath: string;
  readonly authorize: ((request: IncomingMessage) => DashboardAccess | Promise<DashboardAccess>) | undefined;
  readonly readOnly: boolean;
  readonly redact: (value: unknown, job: JobRecord, part: RedactedPart) => unknown;
  readonly logger: Logger;
  readonly traces: TracesConfig | undefined;
}

const BASE_PATH = /^(?:\/[\w.~-]+)*$/;
const OPTION_NAMES = new Set(['store', 'client', 'basePath', 'authorize', 'readOnly', 'redact', 'logger', 'traces']);

export function resolveOptions<Request extends IncomingMessage>(options: DashboardOptions<Request>): DashboardConfig {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`createDashboard() takes an options object with a store or a client; received ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !OPTION_NAMES.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `createDashboard() has no option ${unknown.map((key) => `'${key}'`).join(', ')}: the options are ${[...OPTION_NAMES].join(', ')}`,
    );
  }
  const logger = options.logger ?? DEFAULTS.logger;
  if (!isObject(logger) || typeof logger.error !== 'function') {
    throw new ValidationError(
      `createDashboard() options.logger must be a Logger ({ debug, info, warn, error }); received ${describeValue(logger)}`,
    );
  }
  return {
    ...storeAndClient(options, logger),
    basePath: resolveBasePath(options.basePath),
    authorize: optionalFunction(options.authorize, 'authorize') as DashboardConfig['authorize'],
    readOnly: resolveReadOnly(options.readOnly),
    redact: optionalFunction(options.redact, 'redact') ?? DEFAULTS.redact,
    logger,
    traces: resolveTraces(options.traces),
  };
}

function storeAndClient(options: Pick<DashboardOptions, 'store' | 'client'>, logger: Logger): Pick<DashboardConfig, 'client' | 'store'> {
  const { store, client } = options;
  if (store !== undefined && client !== undefined) {
    throw new ValidationError(
      'createDashboard() takes options.store or options.client, not both: pass only the client to reuse its filters (its store is client.store)',
    );
  }
  if (client !== undefined) {
    if (!isObject(client) || !isObject(client.store) || !isObject(client.recurring)) {
      throw new ValidationError(
        `createDashboard() options.client must be a Client (createClient() from 'pilotlight'); received ${describeValue(client)}`,
      );
    }
    return { client, store: client.store };
  }
  if (!isObject(store) || typeof store.listJobs !== 'function' || typeof store.getJob !== 'function') {
    throw new ValidationError(
      `createDashboard() needs options.store (a Store, e.g. createSqliteStore()) or options.client (your Client); received store ${describeValue(store)}`,
    );
  }
  return { client: createClient({ store, logger }), store };
}

function resolveBasePath(basePath: unknown): string {
  if (basePath === undefined) return DEFAULTS.basePath;
  if (typeof basePath !== 'string' || !BASE_PATH.test(basePath) || /\/\.{1,2}(?:\/|$)/.test(basePath)) {
    const hint =
      typeof basePath === 'string' && basePath.endsWith('/')
        ? `drop the trailing '/' (${describeValue(basePath.replace(/\/+$/, ''))})`
        : `pass '' or a path such as '/admin/jobs': segments of letters, digits, '-', '_', '.', '~', each after a '/', no trailing '/'`;
    throw new ValidationError(`createDashboard() options.basePath must be a URL path; received ${describeValue(basePath)}: ${hint}`);
  }
  return basePath;
}

function resolveReadOnly(readOnly: unknown): boolean {
  if (readOnly === undefined) return DEFAULTS.readOnly;
  if (typeof readOnly !== 'boolean') {
    throw new ValidationError(`createDashboard() options.readOnly must be true or false; received ${describeValue(readOnly)}`);
  }
  return readOnly;
}

function optionalFunction<F>(value: F | undefined, option: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ValidationError(
      `createDashboard() options.${option} must be a function; received ${describeValue(value)}: pass a function or leave it out`,
    );
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
