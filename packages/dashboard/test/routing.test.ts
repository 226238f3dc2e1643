import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Store } from 'pilotlight';
import { createDashboard } from '../src/index.ts';
import { request, serve, Session, tempStore, textOf } from './http-support.ts';

const store = tempStore();
const mounted = await serve({ store, basePath: '/admin/jobs' });
const root = await serve({ store });

function assetUrl(body: string, name: string): string {
  const match = new RegExp(`"(/[^"]*/assets/${name.replace('.', '\\.')}\\?v=[0-9a-f]{12})"`).exec(body);
  assert.ok(match, `the page links ${name}`);
  return match[1]!;
}

describe('routes', () => {
  it('answers every page, under the base path, with links under it', async () => {
    for (const path of ['', '/', '/jobs', '/jobs/', '/jobs?state=Failed', '/recurring', '/workers', '/queues', '/api/overview']) {
      const response = await request(mounted.url + path);
      assert.equal(response.status, 200, path);
    }
    const { body } = await request(`${mounted.url}/`);
    const urls = [...body.matchAll(/(?:href|src|action)="([^"#][^"]*)"/g)].map((match) => match[1]!).filter((url) => url !== 'data:,');
    assert.ok(urls.length > 10);
    for (const url of urls) assert.match(url, /^\/admin\/jobs\//);
  });

  it('works at the root of a server too', async () => {
    assert.equal((await request(`${root.url}/jobs`)).status, 200);
    assert.match((await request(`${root.url}/`)).body, /<a class="brand" href="\/">/);
  });

  it('answers 404 for unknown addresses, including ones that only start like the base path', async () => {
    for (const path of [
      '/admin/jobs/nowhere',
      '/admin/jobs/jobs/1/explode',
      '/admin/jobs/api',
      '/admin/jobs/assets/other.js',
      '/admin/jobsX',
    ]) {
      const response = await request(mounted.origin + path);
      assert.equal(response.status, 404, path);
    }
    const api = await request(`${mounted.url}/api/nothing`);
    assert.equal(api.status, 404);
    assert.deepEqual(JSON.parse(api.body), { error: 'No such page.' });
  });

  it('answers 400 for a path with broken percent-encoding', async () => {
    const response = await request(`${mounted.url}/jobs/%E0%A4%A`);
    assert.equal(response.status, 400);
  });

  it('answers HEAD like GET, without a body', async () => {
    const response = await request(`${mounted.url}/workers`, { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.body, '');
    assert.ok(Number(response.headers['content-length']) > 0);
  });
});

describe('mounting', () => {
  /** A server that strips the base path from req.url and keeps the original, as Express's app.use(path, handler) does. */
  async function stripping(basePath: string, onNext: (req: IncomingMessage) => void) {
    const dashboard = createDashboard({ store, basePath });
    const server = createServer((req, res) => {
      const originalUrl = req.url!;
      if (originalUrl.startsWith(`${basePath}/`) || originalUrl === basePath) req.url = originalUrl.slice(basePath.length) || '/';
      Object.assign(req, { originalUrl });
      dashboard(req, res, () => {
        onNext(req);
        res.writeHead(418).end('the next handler');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        await dashboard.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it('serves a framework that strips the base path from req.url, with the same links', async () => {
    const passed: string[] = [];
    const server = await stripping('/admin/jobs', (req) => passed.push(req.url!));
    try {
      const overview = await request(`${server.origin}/admin/jobs`);
      assert.equal(overview.status, 200);
      assert.match(overview.body, /href="\/admin\/jobs\/workers"/);
      assert.equal((await request(`${server.origin}/admin/jobs/jobs?state=Failed`)).status, 200);
      assert.equal((await request(`${server.origin}/admin/jobs/nowhere`)).status, 404, 'under the base path: the dashboard answers');
      const elsewhere = await request(`${server.origin}/api/users`);
      assert.deepEqual([elsewhere.status, elsewhere.body], [418, 'the next handler'], 'outside the base path: next()');
      assert.equal(elsewhere.headers['content-security-policy'], undefined, "the dashboard's headers stay on its own responses");
      assert.deepEqual(passed, ['/api/users']);
    } finally {
      await server.close();
    }
  });
  it('takes a form body a framework has already parsed into req.body (express.urlencoded())', async () => {
    const dashboard = createDashboard({ store });
    const server = createServer(async (req, res) => {
      if (req.method === 'POST') {
        let text = '';
        for await (const chunk of req) text += chunk;
        const fields = new URLSearchParams(text);
        Object.assign(req, {
          body: Object.fromEntries(
            [...fields.keys()].map((key) => [key, fields.getAll(key).length > 1 ? fields.getAll(key) : fields.get(key)]),
          ),
        });
      }
      dashboard(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const session = new Session({ origin, url: origin, dashboard });
      const confirm = await session.post('/jobs/bulk', { action: 'delete', id: ['1', '2'] });
      assert.equal(confirm.status, 200, textOf(confirm.body));
      assert.match(textOf(confirm.body), /Delete 2 selected jobs\?/);
    } finally {
      await dashboard.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers 404 to a request outside the base path when there is no next handler', async () => {
    const dashboard = createDashboard({ store, basePath: '/admin/jobs' });
    const server = createServer((req, res) => {
      Object.assign(req, { originalUrl: req.url });
      dashboard(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      assert.equal((await request(`${origin}/api/users`)).status, 404);
      assert.equal((await request(`${origin}/admin/jobs/queues`)).status, 200);
    } finally {
      await dashboard.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('assets', () => {
  it('serves the versioned CSS and JS with a year of cache, gzipped when accepted, revalidated by ETag', async () => {
    const { body } = await request(`${mounted.url}/`);
    for (const [name, type] of [
      ['dashboard.css', 'text/css; charset=utf-8'],
      ['dashboard.js', 'text/javascript; charset=utf-8'],
    ] as const) {
      const file = readFileSync(new URL(`../assets/${name}`, import.meta.url), 'utf8');
      const url = mounted.origin + assetUrl(body, name);
      const plain = await request(url);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers['content-type'], type);
      assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(plain.body, file);
      const gzipped = await new Promise<Buffer>((resolve, reject) => {
        get(url, { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
          assert.equal(res.headers['content-encoding'], 'gzip');
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject);
      });
      assert.equal(gunzipSync(gzipped).toString('utf8'), file);
      const revalidated = await request(url, { headers: { 'if-none-match': String(plain.headers.etag) } });
      assert.equal(revalidated.status, 304);
      const unversioned = await request(`${mounted.url}/assets/${name}`);
      assert.equal(unversioned.headers['cache-control'], 'no-cache', 'an unversioned URL is revalidated');
    }
  });
});

describe('close()', () => {
  it('lets the requests under way finish, answers 503 afterwards, and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout' || resource === 'Immediate');
    const before = timers();
    let reading = () => {};
    const read = new Promise<void>((resolve) => (reading = resolve));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow: Store = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== 'listServers') return typeof value === 'function' ? value.bind(target) : value;
        return async () => {
          reading();
          await released;
          return target.listServers();
        };
      },
    }) as Store;
    const dashboard = createDashboard({ store: slow });
    const server = createServer((req, res) => dashboard(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const underWay = request(`${url}/workers`);
    await read;
    let closed = false;
    const closing = dashboard.close().then(() => (closed = true));
    assert.equal((await request(`${url}/`)).status, 503, 'a request after close()');
    assert.equal(closed, false, 'close() waits for the request under way');
    release();
    await closing;
    assert.equal((await underWay).status, 200);
    await dashboard.close();
    const after = await request(`${url}/`);
    assert.equal(after.status, 503);
    assert.match(textOf(after.body), /shutting down/);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    assert.deepEqual(timers(), before);
  });
});
