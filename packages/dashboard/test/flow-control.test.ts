/**
 * Flow control in the dashboard, on a real SQLite file with a real worker, served under a base path:
 * the queues' settings on the queues page, the overview and /api/overview (queues with settings and
 * no job included), Pause and Resume through `client.queues` (which the worker obeys), a job's result
 * through `redact`, its concurrency key, rate limit, debounce key and batch, and the batch page.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, defineJob, silentLogger } from 'pilotlight';
import { byTestId, request, serve, Session, squash, tempStore, textOf, waitFor } from './http-support.ts';
import { testWorker } from '../../pilotlight/test/support/helpers.ts';

const store = tempStore();
const client = createClient({ store, logger: silentLogger });
const report = defineJob('report.build', ({ rows }: { rows: number }) => ({ rows, file: `report-${rows}.csv`, secret: 'hunter2' }));
const silent = defineJob('silent.job', (_args: { n: number }) => {});
/** Jobs of the queues no worker takes. */
const idle = defineJob('idle.job', (_args: { n: number }) => {});
const worker = testWorker({ store, jobs: [report, silent], queues: ['work', 'other'], serverName: 'flow-worker' });
await worker.start();
const served = await serve({ store, basePath: '/admin/jobs' });
const session = new Session(served);

async function page(path: string): Promise<string> {
  const response = await session.get(path);
  assert.equal(response.status, 200, `GET ${path}: ${textOf(response.body).slice(0, 300)}`);
  return squash(response.body);
}

function queueRow(body: string, queue: string): string {
  const row = new RegExp(`<tr data-testid="queue-row" data-queue="${queue}">(.*?)</tr>`).exec(body);
  assert.ok(row, `a row for queue ${queue}`);
  return row[1]!;
}

/** The flash of the page a 303 leads to, checking where it leads. */
async function flashAfter(response: Awaited<ReturnType<Session['post']>>, location: string): Promise<string> {
  assert.equal(response.status, 303, textOf(response.body));
  assert.equal(response.headers.location, `/admin/jobs${location}`);
  const next = await session.follow(response);
  assert.equal(next.status, 200);
  return byTestId(next.body, 'flash')[0] ?? '';
}

describe('queues', () => {
  it('shows each queue’s settings on the queues page and the overview, queues with settings but no job included', async () => {
    await client.enqueue(idle, { n: 1 }, { queue: 'limited' });
    await client.enqueue(idle, { n: 0 }, { queue: 'idle' });
    await client.queues.setConcurrencyLimit('limited', 3);
    await client.queues.setRateLimit('limited', { max: 10, per: 500 });
    await client.queues.pause('empty-paused');
    for (const path of ['/queues', '/']) {
      const body = await page(path);
      const limited = queueRow(body, 'limited');
      assert.deepEqual(byTestId(limited, 'queue-concurrency'), ['at most 3 at once'], path);
      assert.deepEqual(byTestId(limited, 'queue-rate-limit'), ['10 per 500 ms'], path);
      assert.deepEqual(byTestId(limited, 'queue-paused'), [], path);
      assert.match(limited, /data-testid="queue-pause"/, path);
      const paused = queueRow(body, 'empty-paused');
      assert.deepEqual(byTestId(paused, 'queue-paused'), ['Paused'], `${path}: a paused queue without jobs`);
      assert.match(paused, /data-testid="queue-resume"/, path);
      assert.doesNotMatch(paused, /data-testid="queue-pause"/, path);
      assert.match(textOf(queueRow(body, 'idle')), /— Pause$/, `${path}: a queue without settings`);
    }
  });

  it('/api/overview sends each queue’s settings, null when unlimited, their texts and the URL its button posts to', async () => {
    const snapshot = JSON.parse((await request(`${served.url}/api/overview`)).body);
    const byName = new Map(snapshot.queues.map((queue: { queue: string }) => [queue.queue, queue]));
    assert.deepEqual(pick(byName.get('limited')), {
      paused: false,
      concurrencyLimit: 3,
      rateLimit: { max: 10, per: 500 },
      concurrencyLimitText: 'at most 3 at once',
      rateLimitText: '10 per 500 ms',
      toggleAction: '/admin/jobs/queues/limited/pause',
    });
    assert.deepEqual(pick(byName.get('empty-paused')), {
      paused: true,
      concurrencyLimit: null,
      rateLimit: null,
      concurrencyLimitText: null,
      rateLimitText: null,
      toggleAction: '/admin/jobs/queues/empty-paused/resume',
    });
    assert.equal((byName.get('empty-paused') as { href: string }).href, '/admin/jobs/jobs?state=Enqueued&queue=empty-paused');
  });

  it('pauses a queue with its button: the worker starts none of its jobs until Resume, which starts them at once', async () => {
    const flash = await flashAfter(await session.post('/queues/work/pause', { _return: '/queues' }), '/queues');
    assert.equal(flash, 'Paused queue work: no worker starts its jobs until it is resumed');
    assert.equal((await client.queues.get('work')).paused, true);
    const held = await client.enqueue(silent, { n: 1 }, { queue: 'work' });
    // The worker takes both queues in the same claims: once a job enqueued after it ran, the held one was passed over.
    const later = await client.enqueue(silent, { n: 2 }, { queue: 'other' });
    await waitFor(async () => (await store.getJob(later))?.state === 'Succeeded', 'the job of the other queue to run');
    assert.equal((await store.getJob(held))?.state, 'Enqueued', 'a paused queue keeps its jobs waiting');
    const body = await page('/queues');
    assert.deepEqual(byTestId(queueRow(body, 'work'), 'queue-paused'), ['Paused']);

    const resumed = await flashAfter(await session.post('/queues/work/resume', { _return: '/' }), '/');
    assert.equal(resumed, 'Resumed queue work: workers start its jobs again');
    assert.equal((await client.queues.get('work')).paused, false);
    await waitFor(async () => (await store.getJob(held))?.state === 'Succeeded', 'the held job to run once resumed');
    assert.deepEqual(byTestId(queueRow(await page('/'), 'work'), 'queue-paused'), []);
  });

  it('answers 400 for a queue name the client refuses, changing nothing', async () => {
    const before = await client.queues.list();
    const response = await session.post(`/queues/${encodeURIComponent('no spaces')}/pause`, {});
    assert.equal(response.status, 400);
    assert.match(textOf(response.body), /queue/);
    assert.deepEqual(await client.queues.list(), before);
  });
});

describe('a job’s flow control and result', () => {
  it('shows a succeeded job’s result as indented JSON', async () => {
    const id = await client.enqueue(report, { rows: 42 }, { queue: 'work' });
    await waitFor(async () => (await store.getJob(id))?.state === 'Succeeded', 'the report to be built');
    const { body } = await session.get(`/jobs/${id}`);
    const [result] = byTestId(body, 'result');
    assert.equal(result, '{ "rows": 42, "file": "report-42.csv", "secret": "hunter2" }');
    assert.match(body, /<pre class="code scroll" data-testid="result">\{\n {2}&quot;rows&quot;: 42,\n/, 'indented, a key a line');
  });

  it('says when a succeeded handler returned nothing, and shows no result for a job that has not succeeded', async () => {
    const id = await client.enqueue(silent, { n: 3 }, { queue: 'work' });
    await waitFor(async () => (await store.getJob(id))?.state === 'Succeeded', 'the silent job to run');
    assert.deepEqual(byTestId(await page(`/jobs/${id}`), 'result'), ['Its handler returned nothing.']);
    const waiting = await client.enqueue(idle, { n: 4 }, { queue: 'idle' });
    assert.deepEqual(byTestId(await page(`/jobs/${waiting}`), 'result'), []);
  });

  it('passes the result through redact, which is told which part it is given; a two-parameter redact hides both', async () => {
    const id = await client.enqueue(report, { rows: 7 }, { queue: 'work' });
    await waitFor(async () => (await store.getJob(id))?.state === 'Succeeded', 'the report to be built');
    const parts: string[] = [];
    const byPart = await serve({
      store,
      redact: (value, job, part) => {
        parts.push(`${job.id}:${part}`);
        return part === 'result' ? { ...(value as object), secret: '[hidden]' } : value;
      },
    });
    const body = (await request(`${byPart.url}/jobs/${id}`)).body;
    assert.equal(byTestId(body, 'result')[0], '{ "rows": 7, "file": "report-7.csv", "secret": "[hidden]" }');
    assert.equal(byTestId(body, 'arguments')[0], '[ { "rows": 7 } ]');
    assert.deepEqual(parts.sort(), [`${id}:arguments`, `${id}:result`]);

    const argumentsOnly = await serve({ store, redact: (args, job) => (job.type === 'report.build' ? '[personal data]' : args) });
    const hidden = (await request(`${argumentsOnly.url}/jobs/${id}`)).body;
    assert.deepEqual(byTestId(hidden, 'result'), ['"[personal data]"']);
    assert.doesNotMatch(hidden, /hunter2/);
  });

  it('hides the result when redact throws for it, and logs it', async () => {
    const id = await client.enqueue(report, { rows: 8 }, { queue: 'work' });
    await waitFor(async () => (await store.getJob(id))?.state === 'Succeeded', 'the report to be built');
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (message: string) => void errors.push(message) };
    const throwing = await serve({
      store,
      logger,
      redact: (value, _job, part) => {
        if (part === 'result') throw new Error('no');
        return value;
      },
    });
    const body = (await request(`${throwing.url}/jobs/${id}`)).body;
    assert.match(byTestId(body, 'result')[0]!, /hidden: options\.redact threw/);
    assert.doesNotMatch(body, /hunter2/);
    assert.deepEqual(errors, [`dashboard: options.redact threw for job ${id}; its result is not shown`]);
  });

  it('shows the concurrency key and limit, the rate limit and the debounce key; a replaced job says by which', async () => {
    const options = {
      queue: 'idle',
      concurrency: { key: 'tenant:42', limit: 2 },
      rateLimit: { key: 'partner-api', max: 5, per: 60_000 },
    };
    const id = await client.enqueue(idle, { n: 5 }, options);
    const facts = textOf(await page(`/jobs/${id}`));
    assert.match(facts, /Concurrency key tenant:42 , at most 2 at once/);
    assert.match(facts, /Rate limit partner-api , 5 per 1 min/);
    const first = await client.enqueue(idle, { n: 6 }, { queue: 'idle', debounce: { key: 'sync:acme', delay: 60_000 } });
    const second = await client.enqueue(idle, { n: 7 }, { queue: 'idle', debounce: { key: 'sync:acme', delay: 60_000 } });
    const replaced = await page(`/jobs/${first}`);
    assert.match(textOf(replaced), /Debounce key sync:acme/);
    assert.deepEqual(byTestId(replaced, 'job-state'), ['Deleted']);
    assert.match(textOf(replaced), new RegExp(`Debounced: replaced by job ${second}`));
  });
});

describe('batches', () => {
  it('shows a batch’s members by state, paged 50 at a time, and its continuation; members and continuation link to it', async () => {
    const members = await client.enqueueMany(
      idle,
      Array.from({ length: 55 }, (_, n) => ({ n })),
      { queue: 'idle' },
    );
    const continuation = await client.continueWhenAll(members, idle, { n: -1 }, { queue: 'idle' });
    const batchId = (await store.getJob(members[0]!))!.batchId!;
    await client.delete(members[0]!);
    const link = `/admin/jobs/batches/${encodeURIComponent(batchId)}`;
    assert.match(await page(`/jobs/${members[1]}`), new RegExp(`<a href="${link}" data-testid="batch-link">`));
    const awaiting = await page(`/jobs/${continuation}`);
    assert.match(awaiting, new RegExp(`<a href="${link}" data-testid="awaits-batch-link">`));
    assert.match(textOf(awaiting), /Awaits batch .*: runs once every member has finished/);

    const body = await page(`/batches/${encodeURIComponent(batchId)}`);
    assert.deepEqual(byTestId(body, 'batch-count-Enqueued'), ['54']);
    assert.deepEqual(byTestId(body, 'batch-count-Deleted'), ['1']);
    assert.deepEqual(byTestId(body, 'batch-count-all'), ['55']);
    assert.equal(byTestId(body, 'batch-progress')[0], '55 members: 1 finished, 0 succeeded.');
    const rows = [...body.matchAll(/data-testid="job-row" data-job-id="([^"]*)"/g)].map((match) => match[1]!);
    assert.deepEqual(rows, [...members].reverse().slice(0, 50), 'newest first, 50 a page');
    assert.deepEqual(
      [...body.matchAll(/data-testid="batch-continuation" data-job-id="([^"]*)"/g)].map((match) => match[1]),
      [continuation],
    );
    const older = /href="([^"]*)" rel="next">Older</.exec(body);
    assert.ok(older, 'an Older link');
    const second = await page(older[1]!.replace('/admin/jobs', '').replace(/&amp;/g, '&'));
    const rest = [...second.matchAll(/data-testid="job-row" data-job-id="([^"]*)"/g)].map((match) => match[1]!);
    assert.deepEqual(rest, [...members].reverse().slice(50));

    const deleted = await page(`/batches/${encodeURIComponent(batchId)}?state=Deleted`);
    assert.deepEqual(
      [...deleted.matchAll(/data-testid="job-row" data-job-id="([^"]*)"/g)].map((match) => match[1]),
      [members[0]],
    );
  });

  it('answers 404 for a batch that does not exist, and 400 for a state that does not', async () => {
    const unknown = await session.get('/batches/no-such-batch');
    assert.equal(unknown.status, 404);
    assert.match(textOf(unknown.body), /Batch no-such-batch does not exist/);
    assert.equal((await session.get('/batches/x?state=Lost')).status, 400);
  });
});

function pick(queue: unknown) {
  const { paused, concurrencyLimit, rateLimit, concurrencyLimitText, rateLimitText, toggleAction } = queue as Record<string, unknown>;
  return { paused, concurrencyLimit, rateLimit, concurrencyLimitText, rateLimitText, toggleAction };
}
