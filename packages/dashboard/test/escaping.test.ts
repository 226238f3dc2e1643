import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createClient, createWorker, defineJob, silentLogger } from 'pilotlight';
import { html } from '../src/html/template.ts';
import { byTestId, request, serve, tempStore, waitFor } from './http-support.ts';

/** What an attacker puts in job data: markup, a script URL, attribute breakers. */
const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  `"'><svg onload=alert(1)>`,
  'javascript:alert(1)',
  '`${x}` &amp;',
];
/** Queue names are letters, digits and `_ - . :`: the nearest to a payload is a script scheme. */
const QUEUE = 'javascript:alert';

describe('the html template', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const value = `<a href="x" onclick='y'>&\`</a>`;
    assert.equal(
      html`<p title="${value}">${value}</p>`.toString(),
      '<p title="&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;">&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;</p>',
    );
  });

  it('keeps HTML built by html as it is, renders lists and numbers, and nothing for null, undefined and false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(html`${inner}${[1, html`<br />`, '<']}${null}${undefined}${false}${0}`.toString(), '<b>&lt;i&gt;</b>1<br />&lt;0');
  });

  it('is the only way the source makes HTML: every interpolation into an attribute is quoted', () => {
    const src = join(import.meta.dirname, '../src');
    const files = readdirSync(src, { recursive: true, withFileTypes: true }).filter(
      (entry) => entry.isFile() && entry.name.endsWith('.ts'),
    );
    assert.ok(files.length > 20);
    for (const file of files) {
      const source = readFileSync(join(file.parentPath, file.name), 'utf8');
      assert.doesNotMatch(source, /\s[\w:-]+=\$\{/, `${file.name}: an unquoted attribute value`);
      assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, file.name);
    }
  });
});

describe('job data carrying markup', async () => {
  const store = tempStore();
  const client = createClient({ store, logger: silentLogger });
  const jobs = PAYLOADS.map((payload) =>
    defineJob(
      payload,
      (_args: { note: string }) => {
        throw new TypeError(payload);
      },
      { retry: { attempts: 1 } },
    ),
  );
  /** Returns its note: a result carrying markup. */
  const echo = defineJob('echo.note', ({ note }: { note: string }) => ({ note }));
  const worker = createWorker({
    store,
    jobs: [...jobs, echo],
    serverName: PAYLOADS[2],
    pollInterval: 20,
    maintenanceInterval: 20,
    logger: silentLogger,
  });
  after(() => worker.stop());
  await worker.start();
  const ids: string[] = [];
  for (const [n, payload] of PAYLOADS.entries()) {
    ids.push(await client.enqueue(jobs[n]!, { note: payload }, { metadata: { [`key ${payload}`]: payload } }));
    await client.enqueue(jobs[n]!, { note: payload }, { queue: QUEUE });
    await client.recurring.addOrUpdate(payload, '0 3 1 1 *', jobs[n]!, { note: payload }, { queue: QUEUE });
  }
  // Flow control keyed by the payloads, in a queue no worker takes; each in a batch named by its payload.
  const keyed: string[] = [];
  for (const payload of PAYLOADS) {
    const flow = {
      concurrency: { key: payload, limit: 1 },
      rateLimit: { key: payload, max: 1, per: 1000 },
      debounce: { key: payload, delay: 60_000 },
    };
    const id = await client.enqueue(echo, { note: payload }, { queue: 'held', ...flow });
    await store.addToBatch(payload, [id]);
    keyed.push(id);
  }
  const echoed = await client.enqueueMany(
    echo,
    PAYLOADS.map((note) => ({ note })),
  );
  await waitFor(async () => (await store.countJobs()).Failed === PAYLOADS.length, 'the payload jobs to fail');
  await waitFor(async () => (await store.countJobs({ type: 'echo.note' })).Succeeded === PAYLOADS.length, 'the echo jobs to succeed');
  await client.queues.pause(QUEUE);
  await client.queues.setRateLimit(QUEUE, { max: 3, per: 250 });
  const { url } = await serve({ store });

  /** The page holds no payload as markup, and each as escaped text. */
  async function expectEscaped(path: string, shown: readonly string[] = PAYLOADS) {
    const { status, body } = await request(url + path);
    assert.equal(status, 200, path);
    for (const payload of PAYLOADS) {
      if (/[<>"']/.test(payload)) assert.ok(!body.includes(payload), `${path}: ${payload} as markup`);
    }
    for (const payload of shown) {
      const escaped = payload
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&#39;')
        .replace(/`/g, '&#96;');
      assert.ok(body.includes(escaped), `${path}: ${payload} shown as text`);
    }
    assert.doesNotMatch(body, /(?:href|src|action)="\s*javascript:/i, `${path}: a script URL`);
    // Only the page's own script and chart.
    assert.doesNotMatch(body, /<(?:script|img|svg)\b(?![^>]*\b(?:src="\/assets\/|class="chart"))/i, `${path}: an injected element`);
    return body;
  }

  it('is escaped on the overview and the queues page (the queue name)', async () => {
    await expectEscaped('/', [QUEUE]);
    await expectEscaped('/queues', [QUEUE]);
  });

  it('is escaped in the jobs lists (types, reasons) and their filters', async () => {
    await expectEscaped('/jobs?state=Failed');
    await expectEscaped(`/jobs?state=Enqueued&queue=${encodeURIComponent(QUEUE)}`);
    for (const payload of PAYLOADS) {
      await expectEscaped(`/jobs?${new URLSearchParams({ state: 'all', type: payload, q: payload })}`, [payload]);
    }
  });

  it("is escaped on each job's page: type, arguments, metadata, exception, reason, worker", async () => {
    for (const id of ids) await expectEscaped(`/jobs/${id}`, [(await store.getJob(id))!.type, PAYLOADS[2]!]);
  });

  it("is escaped on a job's page in its concurrency key, rate limit key, debounce key and batch id, and in its result", async () => {
    for (const [n, payload] of PAYLOADS.entries()) {
      const body = await expectEscaped(`/jobs/${keyed[n]}`, [payload]);
      for (const testId of ['concurrency-key', 'rate-limit-key', 'debounce-key', 'batch-link']) {
        assert.deepEqual(byTestId(body, testId), [payload], `${testId} of ${payload}`);
      }
      const href = `/batches/${encodeURIComponent(payload)}`.replace(/'/g, '&#39;');
      assert.ok(body.includes(`href="${href}"`), `the batch id percent-encoded: ${href}`);
      const result = await expectEscaped(`/jobs/${echoed[n]}`, [payload]);
      assert.equal(byTestId(result, 'result')[0], JSON.stringify({ note: payload }, null, 2).replace(/\s+/g, ' '));
    }
  });

  it('is escaped on the batch page (its id, its members) and in the queue actions', async () => {
    for (const payload of PAYLOADS) {
      const body = await expectEscaped(`/batches/${encodeURIComponent(payload)}`, [payload]);
      assert.deepEqual(byTestId(body, 'batch-id'), [payload]);
    }
    const queues = await expectEscaped('/queues', [QUEUE]);
    assert.deepEqual(byTestId(queues, 'queue-paused'), ['Paused']);
    assert.match(queues, /action="\/queues\/javascript%3Aalert\/resume"/);
  });

  it('is escaped on the recurring page (ids, types) and the workers page (its name)', async () => {
    await expectEscaped('/recurring');
    await expectEscaped('/workers', [PAYLOADS[2]!]);
  });

  it('goes into links only percent-encoded, after the base path', async () => {
    const { body } = await request(`${url}/recurring`);
    assert.match(body, /action="\/recurring\/%3Cscript%3Ealert\(1\)%3C%2Fscript%3E\/trigger"/);
    assert.match(body, /action="\/recurring\/javascript%3Aalert\(1\)\/remove"/);
    const { body: overview } = await request(`${url}/`);
    assert.match(overview, /href="\/jobs\?state=Enqueued&amp;queue=javascript%3Aalert"/);
  });
});
