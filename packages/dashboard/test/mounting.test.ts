/**
 * The dashboard mounted under the sub-path /admin/jobs of four servers, each as an application
 * mounts it (the snippets of the package README): node:http, Express 5 (`app.use(path, handler)`,
 * with an application-wide form parser before it), Fastify 5 (a scope whose form bodies reach the
 * dashboard untouched, the reply hijacked) and Hono through @hono/node-server (the Node request and
 * response of `c.env`, RESPONSE_ALREADY_SENT). On each, over real HTTP: the overview with every link
 * under the sub-path, a job page, the assets, a requeue with its CSRF token (the cookie and the form's
 * hidden `_csrf`, POSTed with an Origin) that really requeues a job, and the server's own 404 beside.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import express from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import { createClient, createWorker, defineJob, silentLogger, type Store } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { waitFor } from '../../pilotlight/test/support/wait.ts';
import { createDashboard, type DashboardHandler } from '../src/index.ts';

const BASE = '/admin/jobs';
const FAILURE = 'no mail server today';

interface Mounted {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

/** Each framework as the README mounts the dashboard, listening on a free port of 127.0.0.1. */
const FRAMEWORKS: Record<string, (dashboard: DashboardHandler) => Promise<Mounted>> = {
  'node:http': async (dashboard) => {
    const server = createServer((req, res) => {
      if (req.url === BASE || req.url?.startsWith(`${BASE}/`)) return dashboard(req, res);
      res.writeHead(404).end('not the dashboard');
    });
    return listening(server.listen(0, '127.0.0.1'));
  },

  'Express 5': async (dashboard) => {
    const app = express();
    app.use(express.urlencoded({ extended: false })); // the application's own form parser, before the dashboard
    app.use(BASE, dashboard);
    app.use((_req, res) => void res.status(404).send('not the dashboard'));
    return listening(app.listen(0, '127.0.0.1'));
  },

  'Fastify 5': async (dashboard) => {
    const app = Fastify();
    await app.register(async (scope) => {
      scope.addContentTypeParser('application/x-www-form-urlencoded', (_request, _payload, done) => done(null)); // the dashboard reads it
      const handle = (request: FastifyRequest, reply: FastifyReply) => {
        reply.hijack();
        dashboard(request.raw, reply.raw);
      };
      scope.all(BASE, handle);
      scope.all(`${BASE}/*`, handle);
    });
    app.setNotFoundHandler((_request, reply) => void reply.code(404).send('not the dashboard'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },

  'Hono (@hono/node-server)': async (dashboard) => {
    const app = new Hono<{ Bindings: HttpBindings }>();
    app.all(`${BASE}/*`, (c) => {
      dashboard(c.env.incoming, c.env.outgoing);
      return RESPONSE_ALREADY_SENT;
    });
    app.notFound((c) => c.text('not the dashboard', 404));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    return listening(server);
  },
};

/** Once `server`, told to listen on a free port of 127.0.0.1, listens. */
async function listening(server: Server): Promise<Mounted> {
  if (!server.listening) await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pilotlight-mounting-'));
let store: Store<unknown>;
/** One failed job per framework, each requeued by its own POST. */
let failed: string[];

before(async () => {
  store = createSqliteStore({ path: join(dir, 'jobs.db') });
  const client = createClient({ store, logger: silentLogger });
  const broken = defineJob(
    'app.notify',
    async (_args: { n: number }) => {
      throw new TypeError(FAILURE);
    },
    { retry: { attempts: 1 } },
  );
  failed = await client.enqueueMany(
    broken,
    Object.keys(FRAMEWORKS).map((_, n) => ({ n })),
  );
  const worker = createWorker({ store, jobs: [broken], pollInterval: 20, logger: silentLogger });
  await worker.start();
  await waitFor(
    async () => (await Promise.all(failed.map((id) => store.getJob(id)))).every((job) => job?.state === 'Failed'),
    'the jobs to fail',
  );
  await worker.stop();
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The paths a page links to, loads or posts to (`href`, `src`, `action`), anchors and `data:` left out. */
function pathsOf(html: string): string[] {
  return [...html.matchAll(/\b(?:href|src|action)="([^"#][^"]*)"/g)]
    .map((match) => match[1]!.replaceAll('&amp;', '&'))
    .filter((path) => !path.startsWith('data:'));
}

/** The `<form>` whose action ends with `/requeue`, with its hidden fields. */
function requeueForm(html: string): { action: string; fields: URLSearchParams } {
  const form = /<form method="post" action="([^"]*\/requeue)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  assert.ok(form, 'the job page has a requeue form');
  const fields = new URLSearchParams();
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields.append(input[1]!, input[2]!.replaceAll('&amp;', '&'));
  return { action: form[1]!.replaceAll('&amp;', '&'), fields };
}

Object.entries(FRAMEWORKS).forEach(([framework, mount], index) => {
  describe(`${framework}: the dashboard under ${BASE}`, () => {
    let dashboard: DashboardHandler;
    let server: Mounted;
    const url = (path: string) => `${server.origin}${path}`;

    before(async () => {
      dashboard = createDashboard({ store, basePath: BASE, logger: silentLogger });
      server = await mount(dashboard);
    });
    after(async () => {
      await server?.close();
      await dashboard?.close();
    });

    it('the overview: 200, and every link, asset and form under the sub-path', async () => {
      for (const path of [BASE, `${BASE}/`]) {
        const response = await fetch(url(path), { redirect: 'manual' });
        assert.equal(response.status, 200, `GET ${path}`);
        assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
        const html = await response.text();
        const paths = pathsOf(html);
        assert.ok(paths.includes(`${BASE}/jobs`), `a link to the jobs list: ${paths.join(' ')}`);
        assert.ok(
          paths.some((path) => path.startsWith(`${BASE}/assets/`)),
          'its assets',
        );
        const outside = paths.filter((path) => path !== BASE && !path.startsWith(`${BASE}/`));
        assert.deepEqual(outside, [], `nothing outside ${BASE}`);
      }
    });

    it('a job page: its exception, and every link under the sub-path', async () => {
      const response = await fetch(url(`${BASE}/jobs/${failed[index]}`));
      assert.equal(response.status, 200);
      const html = await response.text();
      assert.match(html, new RegExp(`TypeError`));
      assert.match(html, new RegExp(FAILURE));
      assert.deepEqual(
        pathsOf(html).filter((path) => path !== BASE && !path.startsWith(`${BASE}/`)),
        [],
      );
    });

    it('the assets: the stylesheet and the script the pages name', async () => {
      const html = await (await fetch(url(`${BASE}/`))).text();
      const css = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
      const js = /<script src="([^"]+)"/.exec(html)?.[1];
      assert.ok(css && js, 'the page names its stylesheet and script');
      for (const [path, type] of [
        [css, /^text\/css/],
        [js, /javascript/],
      ] as const) {
        const response = await fetch(url(path.replaceAll('&amp;', '&')));
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get('content-type') ?? '', type, path);
        assert.ok((await response.text()).length > 100, `${path} has content`);
      }
    });

    it('a requeue: the job page’s form POSTed with its CSRF cookie, token and Origin requeues the job', async () => {
      const id = failed[index]!;
      const page = await fetch(url(`${BASE}/jobs/${id}`));
      const cookie = /^(pilotlight_csrf=[^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1];
      assert.ok(cookie, 'the page sets the CSRF cookie');
      const { action, fields } = requeueForm(await page.text());
      assert.equal(action, `${BASE}/jobs/${id}/requeue`);
      assert.equal(`pilotlight_csrf=${fields.get('_csrf')}`, cookie, 'the form carries the cookie’s token');

      const response = await fetch(url(action), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: server.origin },
        body: fields.toString(),
      });
      assert.equal(response.status, 303, await response.text());
      const location = response.headers.get('location') ?? '';
      assert.ok(location.startsWith(`${BASE}/`), `redirected under the sub-path: ${location}`);
      assert.equal((await store.getJob(id))?.state, 'Enqueued', 'the job was requeued');
      assert.equal((await store.getHistory(id)).at(-1)?.reason, 'Requeued from the dashboard');

      const after = await fetch(url(location), { headers: { cookie } });
      assert.equal(after.status, 200, `the page it redirects to: ${location}`);
      await after.body?.cancel();
    });

    it('beside it, the server’s own routes: its 404, not the dashboard’s', async () => {
      const response = await fetch(url('/elsewhere'));
      assert.equal(response.status, 404);
      assert.equal(await response.text(), 'not the dashboard');
    });
  });
});
