import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWorker, defineJob, JobStates, silentLogger, type StateName } from 'pilotlight';
import { byTestId, RECURRING_ID, request, seededStore, serve, squash, textOf, waitFor } from './http-support.ts';

const seed = await seededStore();
const { store, client, ids, worker } = seed;
const { url } = await serve({ store, basePath: '/admin/jobs' });

/** 120 jobs waiting in a queue no worker takes, for paging; oldest first. */
const paging = await client.enqueueMany(
  defineJob('page.job', (_args: { n: number }) => {}),
  Array.from({ length: 120 }, (_, n) => ({ n })),
  { queue: 'paging' },
);

async function page(path: string): Promise<string> {
  const response = await request(url + path);
  assert.equal(response.status, 200, `GET ${path}: ${textOf(response.body).slice(0, 300)}`);
  assert.match(String(response.headers['content-type']), /^text\/html; charset=utf-8/);
  return squash(response.body);
}

function rowIds(body: string): string[] {
  return [...body.matchAll(/data-testid="job-row" data-job-id="([^"]*)"/g)].map((match) => match[1]!);
}

describe('overview', () => {
  it('shows the count of every state, each queue, the per-minute chart and the workers alive', async () => {
    const body = await page('/');
    const counts = await store.countJobs();
    for (const state of Object.values(JobStates)) assert.deepEqual(byTestId(body, `count-${state}`), [String(counts[state])], state);
    for (const queue of ['default', 'mail', 'paging']) assert.match(body, new RegExp(`data-testid="queue-row" data-queue="${queue}"`));
    const [chart] = byTestId(body, 'chart');
    assert.match(chart!, /Succeeded 3 Failed 1 in the last hour/);
    assert.equal((body.match(/class="bar-succeeded"/g) ?? []).length, 60, 'a bar per minute of the last hour');
    assert.deepEqual(byTestId(body, 'workers-alive'), ['1']);
    assert.match(body, /data-live="\/admin\/jobs\/api\/overview" data-live-interval="2000"/);
  });

  it('/api/overview gives the same numbers as JSON, for the live updates', async () => {
    const response = await request(`${url}/api/overview`);
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.headers['cache-control'], 'no-store');
    const snapshot = JSON.parse(response.body);
    assert.deepEqual(snapshot.counts, await store.countJobs());
    assert.deepEqual(
      snapshot.queues.map((queue: { queue: string; href: string }) => [queue.queue, queue.href]),
      ['default', 'mail', 'paging'].map((queue) => [queue, `/admin/jobs/jobs?state=Enqueued&queue=${queue}`]),
    );
    assert.equal(snapshot.chart.columns.length, 60);
    assert.equal(snapshot.chart.succeeded, 3);
    assert.equal(snapshot.chart.failed, 1);
    assert.equal(snapshot.workersAlive, 1);
  });
});

describe('jobs', () => {
  it('lists the jobs of a state newest first, with a tab per state and its count', async () => {
    const body = await page('/jobs?state=Failed');
    assert.deepEqual(rowIds(body), [ids.failed]);
    const counts = await store.countJobs();
    for (const state of Object.values(JobStates)) assert.match(textOf(body), new RegExp(`${state} ${counts[state]}\\b`));
    assert.match(body, /aria-current="page">Failed/);
  });

  it('shows Enqueued without a state, and every state with state=all', async () => {
    const enqueued = (await store.listJobs({ state: 'Enqueued', limit: 50 })).map((job) => job.id);
    assert.deepEqual(rowIds(await page('/jobs')), enqueued);
    const all = (await store.listJobs({ limit: 50 })).map((job) => job.id);
    assert.deepEqual(rowIds(await page('/jobs?state=all')), all);
  });

  it('filters by queue and by type', async () => {
    assert.deepEqual(rowIds(await page('/jobs?state=Enqueued&queue=mail')), [...ids.enqueued].reverse());
    assert.deepEqual(rowIds(await page('/jobs?state=all&type=report.render')), [...ids.succeeded].reverse());
    assert.deepEqual(rowIds(await page('/jobs?state=Enqueued&queue=nowhere')), []);
  });

  it('pages 50 at a time with an "Older" link (keyset: before=<the last id>)', async () => {
    const newestFirst = [...paging].reverse();
    let body = await page('/jobs?state=Enqueued&queue=paging');
    const seen: string[] = [];
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 3, 'three pages at most');
      const rows = rowIds(body);
      seen.push(...rows);
      const older = /href="([^"]*)" rel="next">Older</.exec(body);
      if (!older) break;
      assert.equal(rows.length, 50);
      assert.match(older[1]!, new RegExp(`before=${rows.at(-1)}`));
      body = await page(older[1]!.replace('/admin/jobs', '').replace(/&amp;/g, '&'));
      assert.match(body, />Newest</);
    }
    assert.deepEqual(seen, newestFirst);
  });

  it('searches ids, types and arguments, and says how far the bounded scan went', async () => {
    const body = await page('/jobs?state=all&q=bob%40example');
    assert.deepEqual(rowIds(body), [ids.enqueued[1]]);
    assert.match(textOf(body), /Searched down to the oldest job/);
    const many = await page('/jobs?state=Enqueued&q=page.job');
    assert.equal(rowIds(many).length, 50);
    const next = /Examined up to job (\d+)<\/span> — <a href="([^"]*)" rel="next">search older</.exec(many);
    assert.ok(next, 'a link to search older jobs');
    assert.equal(next[1], rowIds(many).at(-1));
    const older = await page(next[2]!.replace('/admin/jobs', '').replace(/&amp;/g, '&'));
    assert.deepEqual(rowIds(older), [...paging].reverse().slice(50, 100));
  });

  it('offers bulk actions for the selection and for the whole filter, only where they apply', async () => {
    const failed = await page('/jobs?state=Failed');
    for (const id of ['bulk-select', 'bulk-requeue', 'bulk-delete', 'bulk-filter-requeue', 'bulk-filter-delete']) {
      assert.match(failed, new RegExp(`data-testid="${id}"`), id);
    }
    assert.match(textOf(failed), /Requeue all 1 job…/);
    const enqueued = await page('/jobs?state=Enqueued');
    assert.doesNotMatch(enqueued, /data-testid="bulk-requeue"|data-testid="bulk-filter-requeue"/, 'enqueued jobs are not requeued');
    assert.match(enqueued, /data-testid="bulk-delete"/);
    const deleted = await page('/jobs?state=Deleted');
    assert.doesNotMatch(deleted, /data-testid="bulk-delete"|data-testid="bulk-filter-delete"/, 'deleted jobs are not deleted again');
  });

  it('answers 400 for a state that does not exist, and for a parameter too long', async () => {
    const unknown = await request(`${url}/jobs?state=Lost`);
    assert.equal(unknown.status, 400);
    assert.match(textOf(unknown.body), /state must be one of Enqueued, Scheduled, Awaiting, Processing, Succeeded, Failed, Deleted or all/);
    assert.equal((await request(`${url}/jobs?q=${'x'.repeat(201)}`)).status, 400);
  });
});

describe('job', () => {
  it("shows a failed job's arguments, metadata, history, each attempt's exception and its worker", async () => {
    const body = await page(`/jobs/${ids.failed}`);
    assert.deepEqual(byTestId(body, 'job-state'), ['Failed']);
    assert.match(byTestId(body, 'arguments')[0]!, /"url": "https:\/\/feeds\.example\.com\/acme\.xml"/);
    assert.match(body, /<pre class="code scroll" data-testid="arguments">/, 'the arguments scroll sideways rather than wrap');
    assert.match(byTestId(body, 'metadata')[0]!, /tenant acme/);
    const history = await client.getHistory(ids.failed);
    const entries = byTestId(body, 'history-entry');
    assert.deepEqual(
      entries.map((entry) => entry.split(' ')[0]),
      history.map((entry) => entry.name),
      'the history, oldest first',
    );
    const exceptions = byTestId(body, 'exception');
    assert.equal(exceptions.length, history.filter((entry) => entry.error).length);
    assert.equal(exceptions.length, 2, 'both attempts');
    for (const exception of exceptions) {
      assert.match(
        exception,
        /^TypeError ?: feed https:\/\/feeds\.example\.com\/acme\.xml answered 503 TypeError: feed .* answered 503 at /,
      );
    }
    assert.match(
      byTestId(body, 'failure')[0]!,
      /^Last exception thrown .* TypeError ?: feed https:\/\/feeds\.example\.com\/acme\.xml answered 503 /,
    );
    assert.match(textOf(body), new RegExp(`Worker ${worker.name}`));
    assert.match(textOf(body), /Attempt 2 of 2 Retries 1/);
    assert.match(body, /data-testid="action-requeue"/);
    assert.match(body, /data-testid="action-delete"/);
  });

  it("puts a failed job's last exception first, above its summary; nothing of the kind for a job that has not failed", async () => {
    let attempts = 0;
    const flaky = defineJob(
      'flaky.sync',
      () => {
        throw new RangeError(`attempt ${++attempts} out of range`);
      },
      { retry: { attempts: 2, backoff: 0 } },
    );
    const flakyWorker = createWorker({
      store,
      jobs: [flaky],
      queues: ['flaky'],
      serverName: 'flaky-worker',
      pollInterval: 20,
      logger: silentLogger,
    });
    await flakyWorker.start();
    const id = await client.enqueue(flaky, undefined, { queue: 'flaky' });
    await waitFor(async () => (await store.getJob(id))?.state === 'Failed', 'the flaky job to fail both attempts');
    await flakyWorker.stop();
    const body = await page(`/jobs/${id}`);
    assert.match(
      byTestId(body, 'failure')[0]!,
      /^Last exception thrown (now|\d+ s ago) RangeError ?: attempt 2 out of range Stack trace RangeError: attempt 2 out of range at /,
      'the last attempt, with its stack',
    );
    assert.match(body, /<details class="failure-stack" open>/);
    assert.ok(body.indexOf('data-testid="failure"') < body.indexOf('id="summary-title"'), 'above the summary');
    assert.equal(byTestId(body, 'exception').length, 2, 'every attempt keeps its exception in the history');
    for (const other of [ids.succeeded[0]!, ids.enqueued[0]!, ids.processing]) {
      assert.deepEqual(byTestId(await page(`/jobs/${other}`), 'failure'), [], `job ${other}`);
    }
  });

  it('shows the trace id of the trace context stored with the job, or says there is none', async () => {
    const traced = await client.enqueue(
      defineJob('traced', () => {}),
      undefined,
      {
        queue: 'paging',
        metadata: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      },
    );
    assert.match(
      byTestId(await page(`/jobs/${traced}`), 'trace')[0]!,
      /^Trace 4bf92f3577b34da6a3ce929d0e0e4736 .*To see it here, let the dashboard receive traces: createDashboard/,
    );
    assert.equal(
      byTestId(await page(`/jobs/${ids.scheduled}`), 'trace')[0]!,
      'No trace context was stored with this job: no OpenTelemetry SDK was recording (or tracing was off) when it was created.',
    );
  });

  it('links a continuation to its parent, a running job to its worker, an occurrence to its recurring job', async () => {
    const awaiting = await page(`/jobs/${ids.awaiting}`);
    assert.match(awaiting, new RegExp(`<a href="/admin/jobs/jobs/${ids.enqueued[0]}">Job ${ids.enqueued[0]}</a>`));
    assert.match(textOf(await page(`/jobs/${ids.enqueued[0]}`)), /Continuations Jobs wait for this one to succeed/);
    const processing = await page(`/jobs/${ids.processing}`);
    assert.match(textOf(processing), new RegExp(`Worker ${worker.name} Lease until`));
    assert.doesNotMatch(processing, /data-testid="action-requeue"/, 'a running job is not requeued');
    const occurrence = await client.recurring.trigger(RECURRING_ID);
    assert.match(
      await page(`/jobs/${occurrence}`),
      new RegExp(`href="/admin/jobs/recurring#recurring-${RECURRING_ID}">${RECURRING_ID}</a>`),
    );
    assert.doesNotMatch(await page(`/jobs/${ids.deleted}`), /data-testid="action-delete"/, 'a deleted job is not deleted again');
  });

  it('answers 404 for a job that does not exist', async () => {
    const response = await request(`${url}/jobs/999999`);
    assert.equal(response.status, 404);
    assert.match(textOf(response.body), /Job 999999 does not exist/);
  });
});

describe('redact', () => {
  it('shows what redact returns in place of the arguments, and hides them when it throws (logged)', async () => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (message: string) => void errors.push(message) };
    const redacted = await serve({ store, redact: (args, job) => (job.type === 'email.send' ? '[personal data]' : args), logger });
    const mail = await request(`${redacted.url}/jobs/${ids.enqueued[0]}`);
    assert.deepEqual(byTestId(mail.body, 'arguments'), ['"[personal data]"']);
    assert.doesNotMatch(mail.body, /ada@example\.com/);
    const throwing = await serve({
      store,
      logger,
      redact: () => {
        throw new Error('no');
      },
    });
    const hidden = await request(`${throwing.url}/jobs/${ids.enqueued[0]}`);
    assert.equal(hidden.status, 200);
    assert.match(byTestId(hidden.body, 'arguments')[0]!, /hidden: options\.redact threw/);
    assert.doesNotMatch(hidden.body, /ada@example\.com/);
    assert.deepEqual(errors, [`dashboard: options.redact threw for job ${ids.enqueued[0]}; its arguments are not shown`]);
  });
});

describe('recurring, workers, queues', () => {
  it('shows each recurring job: cron, time zone, misfire policy, job, queue, next and last run, actions', async () => {
    const body = await page('/recurring');
    const row = new RegExp(
      `<tr id="recurring-${RECURRING_ID}" data-testid="recurring-row" data-recurring-id="${RECURRING_ID}">(.*?)</tr>`,
    ).exec(body);
    assert.ok(row);
    assert.match(textOf(row[1]!), /^nightly-digest 0 3 1 1 \* Europe\/Paris run-once email\.send mail in \d+ d( \d+ h)? /);
    const classes = [...row[1]!.matchAll(/<t[dh]\b([^>]*)>/g)].map((cell) => /class="([^"]*)"/.exec(cell[1]!)?.[1] ?? '');
    assert.deepEqual(
      classes.slice(0, 8),
      ['wrap', 'nowrap', 'nowrap', 'nowrap', '', '', 'nowrap', 'nowrap'],
      'the id wraps, not the schedule',
    );
    assert.match(row[1]!, /data-testid="recurring-trigger"/);
    assert.match(row[1]!, /data-testid="recurring-remove"/);
  });

  it('shows each worker: queues, concurrency, heartbeat, and the jobs it is running', async () => {
    const body = await page('/workers');
    const row = /<tr data-testid="worker-row" data-worker="([^"]*)">(.*?)<\/tr>/.exec(body);
    assert.ok(row);
    assert.equal(row[1], worker.name);
    assert.match(textOf(row[2]!), /^dashboard-test-\d+ default 1 \/ 10 (now|\d+ s ago) (now|\d+ s ago) alive /);
    assert.match(row[2]!, new RegExp(`<a href="/admin/jobs/jobs/${ids.processing}">${ids.processing}</a> <code>video.transcode</code>`));
  });

  it('shows each queue with its depth per state and the age of its oldest waiting job', async () => {
    const body = await page('/queues');
    for (const { queue, counts } of await store.queueStats()) {
      const row = new RegExp(`<tr data-testid="queue-row" data-queue="${queue}">(.*?)</tr>`).exec(body);
      assert.ok(row, queue);
      for (const [state, count] of Object.entries(counts) as [StateName, number][])
        assert.match(textOf(row[1]!), new RegExp(`${state} ${count}\\b`));
    }
    const oldest = (queue: string) => textOf(new RegExp(`data-queue="${queue}">.*?data-field="oldest"[^>]*>(.*?)</td>`).exec(body)![1]!);
    assert.match(oldest('mail'), /^(now|\d+ s ago)$/, 'mail has waited seconds, said as every relative time');
    assert.equal(oldest('default'), '—', 'nothing waits in default');
  });

  it('marks the current page in the navigation, and gives every time its absolute value in a title', async () => {
    const body = await page('/workers');
    assert.match(body, /<a href="\/admin\/jobs\/workers" aria-current="page">Workers<\/a>/);
    assert.match(body, /<time datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">/);
  });
});
