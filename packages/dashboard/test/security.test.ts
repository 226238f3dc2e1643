import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, silentLogger, type Logger, type Store } from 'pilotlight';
import { byTestId, RECURRING_ID, request, seededStore, serve, Session, textOf, type Response } from './http-support.ts';

const seed = await seededStore();
const { store, client, ids } = seed;
const served = await serve({ store, basePath: '/admin/jobs' });
const session = new Session(served);
const idle = defineJob('idle.job', (_args: { n: number }) => {});
/** A paused queue, which a POST to resume it would change. */
await client.queues.pause('paused');

/** Every POST the dashboard takes, with fields that would change the store were it accepted. */
async function everyPost(): Promise<[string, Record<string, string>][]> {
  const target = await client.enqueue(idle, { n: 0 }, { queue: 'idle' });
  return [
    [`/jobs/${target}/delete`, {}],
    [`/jobs/${ids.failed}/requeue`, {}],
    ['/jobs/bulk', { action: 'delete', id: target, confirm: '1' }],
    ['/jobs/bulk', { action: 'delete', scope: 'filter', state: 'Enqueued', confirm: '100', upto: target }],
    [`/recurring/${RECURRING_ID}/trigger`, {}],
    [`/recurring/${RECURRING_ID}/remove`, {}],
    ['/queues/mail/pause', {}],
    ['/queues/paused/resume', {}],
  ];
}

/** What the POSTs could change: counts per queue and state, histories, the recurring jobs, the queues' settings. */
async function snapshot() {
  return {
    queues: await store.queueStats(),
    failed: await client.getHistory(ids.failed),
    recurring: await store.listRecurring(),
    settings: await store.listQueueSettings(),
  };
}

/** Each POST answered `status` with a body matching `why`, and nothing changed. */
async function expectAllRefused(post: (path: string, fields: Record<string, string>) => Promise<Response>, status: number, why: RegExp) {
  const posts = await everyPost();
  const before = await snapshot();
  for (const [path, fields] of posts) {
    const response = await post(path, fields);
    assert.equal(response.status, status, `POST ${path}: ${textOf(response.body).slice(0, 200)}`);
    assert.match(textOf(response.body), why, `POST ${path} says why`);
  }
  assert.deepEqual(await snapshot(), before, 'nothing changed');
}

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

describe('headers', () => {
  it('every response carries the Content-Security-Policy and the other security headers', async () => {
    const target = await client.enqueue(idle, { n: 1 }, { queue: 'idle' });
    const responses: [string, Response][] = [
      ['overview', await session.get('/')],
      ['jobs', await session.get('/jobs?state=Failed')],
      ['job', await session.get(`/jobs/${ids.failed}`)],
      ['api', await session.get('/api/overview')],
      ['asset', await session.get('/assets/dashboard.css')],
      ['404', await session.get('/nowhere')],
      ['405', await session.get(`/jobs/${target}/delete`)],
      ['400', await session.get('/jobs?state=Lost')],
      ['303', await session.post(`/jobs/${target}/delete`, {})],
      ['403', await session.post(`/jobs/${target}/delete`, {}, { origin: 'http://evil.example' })],
    ];
    for (const [what, response] of responses) {
      assert.equal(response.headers['content-security-policy'], CSP, what);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', what);
      assert.equal(response.headers['referrer-policy'], 'same-origin', what);
      assert.equal(response.headers['x-frame-options'], 'DENY', what);
      if (what !== 'asset') assert.equal(response.headers['cache-control'], 'no-store', what);
    }
  });

  it('pages hold no inline script or style, and no request to another origin', async () => {
    for (const path of ['/', '/jobs?state=all', `/jobs/${ids.failed}`, '/recurring', '/workers', '/queues']) {
      const { body } = await session.get(path);
      assert.doesNotMatch(body, /<script(?![^>]*\ssrc=)[^>]*>/, `an inline script on ${path}`);
      assert.doesNotMatch(body, /<style|\sstyle=|\son\w+=/i, `an inline style or handler on ${path}`);
      // (The overview's templates have an empty link and empty form actions, which its script fills.)
      assert.doesNotMatch(body, /(?:src|href|action)="(?!\/admin\/jobs\/|#|data:,|")/, `a URL outside the dashboard on ${path}`);
    }
  });
});

describe('CSRF and origin', () => {
  it("sets the token in an HttpOnly, SameSite=Strict cookie scoped to the dashboard's path, and in every form", async () => {
    const response = await request(`${served.url}/jobs/${ids.failed}`);
    const [cookie] = response.headers['set-cookie']!;
    assert.match(cookie!, /^pilotlight_csrf=[\w-]{43}; Path=\/admin\/jobs; HttpOnly; SameSite=Strict$/);
    const token = cookie!.split(';')[0]!.split('=')[1];
    const forms = [...response.body.matchAll(/<form method="post"/g)].length;
    assert.ok(forms >= 2);
    assert.equal([...response.body.matchAll(new RegExp(`name="_csrf" value="${token}"`, 'g'))].length, forms);
  });

  it('refuses a POST without the token, with a wrong token, or without the cookie, and changes nothing', async () => {
    await session.token();
    await expectAllRefused((path, fields) => session.post(path, { ...fields, _csrf: '' }), 403, /no CSRF token/);
    await expectAllRefused((path, fields) => session.post(path, { ...fields, _csrf: 'A'.repeat(43) }), 403, /does not match/);
    const cookieless = (path: string, fields: Record<string, string>) => session.post(path, fields, { cookie: '' });
    await expectAllRefused(cookieless, 403, /CSRF cookie is missing/);
  });

  it('refuses a POST from another origin, or without Origin, even with the token, and changes nothing', async () => {
    await expectAllRefused(
      (path, fields) => session.post(path, fields, { origin: 'http://evil.example' }),
      403,
      /comes from http:\/\/evil\.example/,
    );
    await expectAllRefused(
      (path, fields) => session.post(path, fields, { origin: `http://localhost:${new URL(served.origin).port}` }),
      403,
      /origin/,
    );
    await expectAllRefused((path, fields) => session.post(path, fields, { origin: 'null' }), 403, /no Origin header/);
    const noOrigin = async (path: string, fields: Record<string, string>) => {
      const form = new URLSearchParams({ _csrf: await session.token(), ...fields });
      return request(served.url + path, {
        method: 'POST',
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookieHeader() },
      });
    };
    await expectAllRefused(noOrigin, 403, /no Origin header/);
    await expectAllRefused(
      (path, fields) => session.post(path, fields, { 'sec-fetch-site': 'same-site' }),
      403,
      /Sec-Fetch-Site: same-site/,
    );
  });

  it('behind a TLS proxy (X-Forwarded-Proto: https): a Secure cookie, and the https origin expected', async () => {
    const response = await request(`${served.url}/`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(response.headers['set-cookie']![0]!, /; Secure$/);
    const id = await client.enqueue(idle, { n: 5 }, { queue: 'idle' });
    const host = new URL(served.origin).host;
    const http = await session.post(`/jobs/${id}/delete`, {}, { 'x-forwarded-proto': 'https' });
    assert.equal(http.status, 403, 'http://host is not the origin when the client used https');
    const https = await session.post(`/jobs/${id}/delete`, {}, { 'x-forwarded-proto': 'https', origin: `https://${host}` });
    assert.equal(https.status, 303);
  });

  it('takes Sec-Fetch-Site: same-origin in place of Origin', async () => {
    const id = await client.enqueue(idle, { n: 2 }, { queue: 'idle' });
    const form = new URLSearchParams({ _csrf: await session.token() });
    const response = await request(`${served.url}/jobs/${id}/delete`, {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookieHeader(), 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(response.status, 303);
    assert.equal((await store.getJob(id))!.state, 'Deleted');
  });

  it('GET never changes anything: an action address answers 405 to it', async () => {
    const id = await client.enqueue(idle, { n: 3 }, { queue: 'idle' });
    for (const path of [
      `/jobs/${id}/delete`,
      `/jobs/${id}/requeue`,
      '/jobs/bulk',
      `/recurring/${RECURRING_ID}/remove`,
      '/queues/mail/pause',
    ]) {
      const response = await session.get(path);
      assert.equal(response.status, 405, path);
      assert.equal(response.headers.allow, 'POST');
    }
    const put = await request(`${served.url}/jobs`, { method: 'PUT' });
    assert.deepEqual([put.status, put.headers.allow], [405, 'GET, HEAD']);
    assert.equal((await store.getJob(id))!.state, 'Enqueued');
    assert.ok(await store.getRecurring(RECURRING_ID));
  });
});

describe('who may see and act', () => {
  it('without authorize, answers local requests only: 403 saying to pass authorize', async () => {
    assert.equal((await request(`${served.url}/`)).status, 200);
    const remote = await request(`${served.url}/`, { localAddress: '127.0.0.2' });
    assert.equal(remote.status, 403);
    assert.match(
      textOf(remote.body),
      /only requests from this machine .* comes from 127\.0\.0\.2\. To open it to others, pass authorize to createDashboard\(\)/,
    );
    assert.equal((await request(`${served.url}/api/overview`, { localAddress: '127.0.0.2' })).status, 403);
    assert.equal((await request(`${served.url}/assets/dashboard.js`, { localAddress: '127.0.0.2' })).status, 403);
  });

  it('with authorize, asks it for every request (sync or async), local or not', async () => {
    const seen: string[] = [];
    const guarded = await serve({
      store,
      authorize: async (req) => {
        seen.push(req.url!);
        return req.headers.authorization === 'Bearer admin';
      },
    });
    assert.equal((await request(`${guarded.url}/`)).status, 403, 'local, but refused by authorize');
    const denied = await request(`${guarded.url}/workers`, { localAddress: '127.0.0.2' });
    assert.equal(denied.status, 403);
    assert.match(textOf(denied.body), /authorize refused the request/);
    assert.equal(
      (await request(`${guarded.url}/workers`, { localAddress: '127.0.0.2', headers: { authorization: 'Bearer admin' } })).status,
      200,
    );
    assert.deepEqual(seen, ['/', '/workers', '/workers']);
  });

  it('refuses the request when authorize throws or answers something else, and logs it', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (message) => void errors.push(message) };
    const throwing = await serve({
      store,
      logger,
      authorize: () => {
        throw new Error('session store down');
      },
    });
    const response = await request(`${throwing.url}/`);
    assert.equal(response.status, 403);
    assert.doesNotMatch(response.body, /session store down/);
    const odd = await serve({ store, logger, authorize: () => 'yes' as unknown as boolean });
    assert.equal((await request(`${odd.url}/`)).status, 403);
    assert.deepEqual(errors, [
      'dashboard: options.authorize threw; the request is refused',
      "dashboard: options.authorize must answer true, 'read-only' or false; it answered string, which refuses the request",
    ]);
  });

  for (const [name, options] of [
    ['readOnly: true', { readOnly: true }],
    ["authorize answering 'read-only'", { authorize: () => 'read-only' as const }],
  ] as const) {
    it(`read-only (${name}): a banner on every page, no action, every POST refused with 403`, async () => {
      const readOnly = new Session(await serve({ store, basePath: '/viewer', ...options }));
      assert.match((await readOnly.get('/queues')).body, /data-testid="queue-paused"/, 'a paused queue still says so');
      for (const path of ['/', '/jobs?state=Failed', `/jobs/${ids.failed}`, '/recurring', '/workers', '/queues']) {
        const { body } = await readOnly.get(path);
        assert.match(byTestId(body, 'read-only-banner')[0]!, /Read-only/, path);
        assert.doesNotMatch(body, /<form method="post"|data-testid="(action|bulk|recurring-(trigger|remove)|queue-(pause|resume)")/, path);
      }
      await expectAllRefused((path, fields) => readOnly.post(path, fields), 403, /read-only/);
    });
  }
});

describe('limits and failures', () => {
  it('answers 413 to a body over 64 KiB and 415 to a body that is not a form, changing nothing', async () => {
    const id = await client.enqueue(idle, { n: 4 }, { queue: 'idle' });
    const token = await session.token();
    const big = await session.postRaw(`/jobs/${id}/delete`, `_csrf=${token}&pad=${'x'.repeat(64 * 1024)}`);
    assert.equal(big.status, 413);
    const json = await session.postRaw(`/jobs/${id}/delete`, JSON.stringify({ _csrf: token }), { 'content-type': 'application/json' });
    assert.equal(json.status, 415);
    assert.equal((await store.getJob(id))!.state, 'Enqueued');
    const fits = await session.postRaw(`/jobs/${id}/delete`, `_csrf=${token}&pad=${'x'.repeat(60 * 1024)}`);
    assert.equal(fits.status, 303);
  });

  it('answers 500 without a stack trace when the store fails, and logs the error', async () => {
    const failure = new Error('database is locked');
    const broken: Store = new Proxy(store, {
      get(target, property) {
        if (property === 'countJobs') return () => Promise.reject(failure);
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    const logged: unknown[] = [];
    const failing = await serve({
      store: broken,
      logger: { ...silentLogger, error: (_message, details) => void logged.push(details?.error) },
    });
    const response = await request(`${failing.url}/`);
    assert.equal(response.status, 500);
    assert.match(textOf(response.body), /The request failed with Error: database is locked\. The details are in the server's log\./);
    assert.doesNotMatch(response.body, /\bat .*\.ts:\d+/, 'no stack trace');
    assert.deepEqual(logged, [failure]);
    const api = await request(`${failing.url}/api/overview`);
    assert.equal(api.status, 500);
    assert.match(JSON.parse(api.body).error, /database is locked/);
  });
});
