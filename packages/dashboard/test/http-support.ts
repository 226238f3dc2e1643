/**
 * What the dashboard's HTTP tests share: a real SQLite file seeded through the public API with a
 * real worker (jobs in every state, a recurring job), the dashboard served by node:http on port 0,
 * and requests made with node:http, the way a browser would make them (cookies, Origin).
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { createClient, createWorker, defineJob, silentLogger, type Client, type Worker } from 'pilotlight';
import type { SqliteStore } from 'pilotlight/sqlite';
import { tempDir, tempStore, waitFor } from '../../pilotlight/test/support/helpers.ts';
import { createDashboard, type DashboardHandler, type DashboardOptions } from '../src/index.ts';

export { tempDir, tempStore, waitFor };

export const RECURRING_ID = 'nightly-digest';

export interface Seeded {
  readonly store: SqliteStore;
  readonly client: Client;
  readonly worker: Worker;
  readonly ids: {
    readonly succeeded: readonly string[];
    /** Failed both attempts with a TypeError. */
    readonly failed: string;
    /** Running until the test file ends. */
    readonly processing: string;
    /** Waiting in the `mail` queue, which no worker takes. */
    readonly enqueued: readonly string[];
    readonly scheduled: string;
    readonly awaiting: string;
    readonly deleted: string;
  };
}

/** Jobs in every state, through the public API and a real worker (which takes the `default` queue only). */
export async function seededStore(): Promise<Seeded> {
  const store = tempStore();
  const client = createClient({ store, logger: silentLogger });
  let release = () => {};
  const running = new Promise<void>((resolve) => (release = resolve));
  const jobs = {
    report: defineJob('report.render', (_args: { report: number }) => {}),
    feed: defineJob(
      'feed.import',
      ({ url }: { url: string }) => {
        throw new TypeError(`feed ${url} answered 503`);
      },
      { retry: { attempts: 2, backoff: 0 } },
    ),
    transcode: defineJob('video.transcode', (_args: { video: string }) => running),
    email: defineJob('email.send', (_args: { to: string }) => {}, { queue: 'mail' }),
  };
  const worker = createWorker({
    store,
    jobs: Object.values(jobs),
    serverName: `dashboard-test-${process.pid}`,
    pollInterval: 20,
    maintenanceInterval: 20,
    heartbeatInterval: 50,
    logger: silentLogger,
  });
  after(async () => {
    release();
    await worker.stop();
  });
  await worker.start();
  const succeeded = await client.enqueueMany(jobs.report, [{ report: 1 }, { report: 2 }, { report: 3 }]);
  const failed = await client.enqueue(jobs.feed, { url: 'https://feeds.example.com/acme.xml' }, { metadata: { tenant: 'acme' } });
  const processing = await client.enqueue(jobs.transcode, { video: 'launch.mp4' });
  const enqueued = [
    await client.enqueue(jobs.email, { to: 'ada@example.com' }),
    await client.enqueue(jobs.email, { to: 'bob@example.com' }),
  ];
  const scheduled = await client.schedule(jobs.email, { to: 'later@example.com' }, { delay: 3_600_000 });
  const awaiting = await client.continueWith(enqueued[0]!, jobs.email, { to: 'audit@example.com' });
  const deleted = await client.enqueue(jobs.email, { to: 'gone@example.com' });
  await client.delete(deleted);
  await client.recurring.addOrUpdate(RECURRING_ID, '0 3 1 1 *', jobs.email, { to: 'team@example.com' }, { timeZone: 'Europe/Paris' });
  await waitFor(async () => {
    const counts = await store.countJobs();
    return counts.Succeeded === 3 && counts.Failed === 1 && counts.Processing === 1;
  }, 'the worker to run the seeded jobs');
  return { store, client, worker, ids: { succeeded, failed, processing, enqueued, scheduled, awaiting, deleted } };
}

export interface Served {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The origin and the base path: where the overview is. */
  readonly url: string;
  readonly dashboard: DashboardHandler;
}

/** The dashboard served by node:http on 127.0.0.1 (port 0), closed (with its server) after the test file. */
export async function serve(
  options: DashboardOptions,
  listener?: (dashboard: DashboardHandler) => (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Served> {
  const dashboard = createDashboard(options);
  const server = createServer(listener ? listener(dashboard) : (req, res) => dashboard(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(async () => {
    await dashboard.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, url: origin + (options.basePath ?? ''), dashboard };
}

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** The client's own address (e.g. 127.0.0.2: a request that is not from 127.0.0.1). */
  readonly localAddress?: string;
}

/** One request with node:http: no cookie jar, no redirect followed. */
export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A browser's view of one dashboard: it keeps the cookies the dashboard sets, and posts forms the
 * way the dashboard's own pages do (same origin, with the token of its cookie).
 */
export class Session {
  readonly served: Served;
  readonly #cookies = new Map<string, string>();

  constructor(served: Served) {
    this.served = served;
  }

  /** GET a path under the base path, with the session's cookies. */
  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#keep(await request(this.served.url + path, { headers: { cookie: this.cookieHeader(), ...headers } }));
  }

  /** The CSRF token: the value of the dashboard's cookie (fetched with the overview when the session has none). */
  async token(): Promise<string> {
    if (!this.#cookies.has('pilotlight_csrf')) await this.get('/');
    return this.#cookies.get('pilotlight_csrf')!;
  }

  /** POST a form as the dashboard's pages do: `_csrf` from the cookie, `Origin` the dashboard's; `headers` override. */
  async post(path: string, fields: Record<string, string | readonly string[]>, headers: Record<string, string> = {}): Promise<Response> {
    const form = new URLSearchParams();
    form.set('_csrf', await this.token());
    for (const [name, value] of Object.entries(fields)) {
      form.delete(name);
      for (const item of typeof value === 'string' ? [value] : value) form.append(name, item);
    }
    return this.postRaw(path, form.toString(), headers);
  }

  /** POST a body as it is, with the session's cookies and the dashboard's Origin unless `headers` say otherwise. */
  async postRaw(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
    const response = await request(this.served.url + path, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.served.origin,
        cookie: this.cookieHeader(),
        ...headers,
      },
    });
    return this.#keep(response);
  }

  /** Follow a 303 as a browser would (GET, with the cookies it set). */
  follow(response: Response): Promise<Response> {
    const location = response.headers.location;
    if (response.status !== 303 || location === undefined) throw new Error(`expected a 303 with a Location; received ${response.status}`);
    return this.#keep(request(this.served.origin + location, { headers: { cookie: this.cookieHeader() } }));
  }

  cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async #keep(response: Response | Promise<Response>): Promise<Response> {
    const received = await response;
    for (const cookie of received.headers['set-cookie'] ?? []) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(cookie)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return received;
  }
}

/** The text of the elements with `data-testid="<id>"` (tags stripped, entities decoded), in document order. */
export function byTestId(body: string, id: string): string[] {
  const found: string[] = [];
  const opening = new RegExp(`<(\\w+)[^>]*\\bdata-testid="${id}"[^>]*>`, 'g');
  for (const match of body.matchAll(opening)) {
    const tag = match[1]!;
    let depth = 1;
    const at = match.index + match[0].length;
    const tags = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
    tags.lastIndex = at;
    let end = body.length;
    for (let next = tags.exec(body); next; next = tags.exec(body)) {
      depth += next[1] === '/' ? -1 : 1;
      if (depth === 0) {
        end = next.index;
        break;
      }
    }
    found.push(textOf(body.slice(at, end)));
  }
  return found;
}

/** Markup with its white space made one space and none before a tag's end: what the tests match against. */
export function squash(markup: string): string {
  return markup.replace(/\s+/g, ' ').replace(/ (\/?>)/g, '$1');
}

/** Markup to text: tags dropped, the five entities decoded, runs of white space made one. */
export function textOf(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
