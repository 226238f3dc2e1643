import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Page } from 'playwright-core';
import type { StateName } from 'pilotlight';
import { VIEWPORT } from './support/browser.ts';
import { cellLocator, cellUnder, expectAbsent, expectNumber, expectText, linesOf, wholeNumber } from './support/expect.ts';
import { startFixture } from './support/fixture.ts';
import { FAILED_FEED, FAILED_STACK_FRAMES, RECURRING_ID, SEEDED, SEEDED_COUNTS } from './support/seed.ts';

const { seed, browser, serve } = await startFixture();
const dashboard = await serve();
const { client, ids, worker } = seed;

function rowIds(page: Page): Promise<string[]> {
  return page.getByTestId('job-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job-id') ?? ''));
}

const STATES = Object.keys(SEEDED_COUNTS) as StateName[];

/** Each seeded queue has its row, with its count in the column of each state shown; `required` columns must be. */
async function expectQueueRows(page: Page, required: readonly StateName[]): Promise<void> {
  for (const [queue, counts] of Object.entries(SEEDED)) {
    const row = page.locator(`[data-testid=queue-row][data-queue="${queue}"]`);
    for (const state of STATES) {
      const cell = await cellUnder(row, state);
      if (cell === undefined && !required.includes(state)) continue;
      assert.match(cell ?? `no ${state} column`, wholeNumber(counts[state] ?? 0), `queue ${queue}, ${state}`);
    }
  }
}

it('the overview shows the count of every state and queue, the per-minute chart and the live worker', async () => {
  const page = await browser.open(dashboard);
  for (const [state, count] of Object.entries(SEEDED_COUNTS)) await expectNumber(page.getByTestId(`count-${state}`), count);
  await expectQueueRows(page, ['Enqueued']);
  await expectNumber(page.getByTestId('workers-alive'), 1);
  // The chart says what it draws: the seed's 55 successes and its one failure, all in the last hour.
  await page.getByTestId('chart').waitFor();
  await page.getByRole('img', { name: /55 jobs succeeded, 1 failed/ }).waitFor();
  const bars = page.getByTestId('chart').locator('title', { hasText: /[1-9]\d* succeeded/ });
  assert.ok((await bars.count()) > 0, 'a minute with successes has its bar');
});

it('lists the jobs of a state, newest first, and filters them by queue, type and text', async () => {
  const page = await browser.open(`${dashboard}/jobs?state=Enqueued`);
  assert.deepEqual(await rowIds(page), [...ids.mail, ...ids.reports].reverse());

  const filter = async (fill: () => Promise<unknown>, expected: readonly string[]) => {
    await page.getByRole('link', { name: 'Reset' }).click();
    await fill();
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/[?&](queue|type|q)=[^&]/);
    assert.deepEqual(await rowIds(page), [...expected].reverse());
  };
  await filter(() => page.getByLabel('Queue').selectOption('mail'), ids.mail);
  await filter(() => page.getByLabel('Type').fill('invoice.pdf'), ids.reports);
  await filter(() => page.getByLabel('Search').fill('carol@'), [ids.mail[2]!]);
});

it('pages through more than 50 jobs with the "Older" link', async () => {
  const page = await browser.open(`${dashboard}/jobs?state=Succeeded`);
  const newestFirst = [...ids.succeeded].reverse();
  assert.deepEqual(await rowIds(page), newestFirst.slice(0, 50));
  await page.getByRole('link', { name: 'Older' }).click();
  await page.waitForURL(/before=/);
  assert.deepEqual(await rowIds(page), newestFirst.slice(50));
  assert.equal(await page.getByRole('link', { name: 'Older' }).count(), 0, 'the last page has no "Older" link');
});

it("shows a failed job's arguments, metadata, history, exceptions and the worker that ran it", async () => {
  const page = await browser.open(`${dashboard}/jobs/${ids.failed}`);
  await expectText(page.getByTestId('job-state'), 'Failed');
  const failure = page.getByTestId('failure');
  await expectText(failure, `TypeError: feed ${FAILED_FEED} answered 503 Service Unavailable`);
  await expectText(failure, FAILED_STACK_FRAMES[0]!);
  const message = await failure.locator('.failure-error').boundingBox();
  assert.ok(message && message.y + message.height < VIEWPORT.height, 'the last exception is above the fold');
  const args = page.getByTestId('arguments');
  await expectText(args, FAILED_FEED);
  const json = (await args.textContent()) ?? '';
  assert.equal(await linesOf(args), json.split('\n').length, 'the arguments keep their lines and indentation (they scroll sideways)');
  await expectText(page.getByTestId('metadata'), /tenant[\s\S]*acme/);
  const history = await client.getHistory(ids.failed);
  const entries = page.getByTestId('history-entry');
  assert.equal(await entries.count(), history.length);
  for (const [n, entry] of history.entries()) {
    await expectText(entries.nth(n), entry.name);
    if (entry.reason) await expectText(entries.nth(n), entry.reason);
  }
  const exceptions = page.getByTestId('exception');
  assert.equal(await exceptions.count(), history.filter((entry) => entry.error).length, 'one exception per failed attempt');
  for (const exception of await exceptions.all()) {
    await expectText(exception, 'TypeError');
    await expectText(exception, `feed ${FAILED_FEED} answered 503 Service Unavailable`);
    await expectText(exception, FAILED_STACK_FRAMES[0]!); // the stack
  }
  await expectText(page.locator('main'), worker.name);
});

it('shows when a scheduled job is due, and links a continuation to the job it waits for', async () => {
  const page = await browser.open(`${dashboard}/jobs?state=Scheduled`);
  const row = page.locator(`[data-testid=job-row][data-job-id="${ids.scheduled}"]`);
  assert.match((await cellUnder(row, 'Due')) ?? 'no Due column', /^in /);
  assert.match((await row.locator('time').last().getAttribute('title')) ?? 'no title', /\d{4}-\d{2}-\d{2}/, 'the absolute time, on hover');

  await page.goto(`${dashboard}/jobs/${ids.awaiting}`);
  await expectText(page.getByTestId('job-state'), 'Awaiting');
  await page.locator(`main a[href="${new URL(dashboard).pathname}/jobs/${ids.mail[0]}"]`).click();
  await page.waitForURL(`${dashboard}/jobs/${ids.mail[0]}`);
  await expectText(page.getByTestId('job-state'), 'Enqueued');
});

it('shows the recurring job: job, schedule, time zone, misfire policy', async () => {
  const page = await browser.open(`${dashboard}/recurring`);
  const row = page.locator(`[data-testid=recurring-row][data-recurring-id="${RECURRING_ID}"]`);
  for (const text of ['digest.send', '0 3 1 1 *', 'Europe/Paris', 'run-once']) await expectText(row, text);
});

it('keeps the schedule and the times of a recurring job on one line each when its id is long: the id wraps', async () => {
  const id = 'tenant-acme-corporation-europe-west-weekly-digest-of-unread-notifications-for-every-member';
  await client.recurring.addOrUpdate(
    id,
    '0 3 1 1 *',
    seed.jobs.digest,
    { list: 'acme' },
    { timeZone: 'Europe/Paris', misfire: 'run-once' },
  );
  try {
    const page = await browser.open(`${dashboard}/recurring`);
    const row = page.locator(`[data-testid=recurring-row][data-recurring-id="${id}"]`);
    for (const header of ['Cron', 'Time zone', 'Misfire', 'Next run', 'Last run']) {
      assert.equal(await linesOf(await cellLocator(row, header)), 1, `${header} on one line`);
    }
    assert.ok((await linesOf(await cellLocator(row, 'Id'))) > 1, 'the id wraps');
  } finally {
    await client.recurring.remove(id);
  }
});

it('shows the worker alive, its queues and the job it is running', async () => {
  const page = await browser.open(`${dashboard}/workers`);
  const row = page.getByTestId('worker-row').filter({ hasText: worker.name });
  assert.equal(await cellUnder(row, 'Queues'), 'default');
  await expectText(row, 'alive');
  await row.locator(`a[href="${new URL(dashboard).pathname}/jobs/${ids.processing}"]`).waitFor();
});

it('shows every queue with its depth per state and the age of its oldest waiting job', async () => {
  const page = await browser.open(`${dashboard}/queues`);
  await expectQueueRows(page, STATES);
  const mail = page.locator('[data-testid=queue-row][data-queue="mail"]');
  assert.match((await cellUnder(mail, 'Oldest waiting')) ?? '', /\d/);
});

// Last: it changes the counts the tests above check.
it('the overview follows the store live, without reloading', async () => {
  const page = await browser.open(dashboard);
  const count = page.getByTestId('count-Enqueued');
  await expectNumber(count, SEEDED_COUNTS.Enqueued);
  await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
  await client.enqueue(seed.jobs.email, { to: 'erin@example.com' });
  // The page polls at least every 2 s: 4 s leaves a loaded machine time to answer.
  await expectNumber(count, SEEDED_COUNTS.Enqueued + 1, 4_000);
  assert.equal(await page.evaluate(() => 'sameDocument' in globalThis), true, 'the page was reloaded');

  // A pause made elsewhere: the row shows the badge, and Resume in place of Pause.
  const mail = page.locator('[data-testid=queue-row][data-queue="mail"]');
  await mail.getByTestId('queue-pause').waitFor();
  await client.queues.pause('mail');
  await expectText(mail.getByTestId('queue-paused'), 'Paused', 4_000);
  await mail.getByTestId('queue-resume').waitFor({ timeout: 4_000 });
  await expectAbsent(mail.getByTestId('queue-pause'), 'the Pause button of a paused queue');

  // A queue that first shows through polling (settings, no job yet): its limits, with their titles, and its button.
  await client.queues.setConcurrencyLimit('webhooks', 3);
  await client.queues.setRateLimit('webhooks', { max: 10, per: 500 });
  const webhooks = page.locator('[data-testid=queue-row][data-queue="webhooks"]');
  await expectText(webhooks.getByTestId('queue-rate-limit'), '10 per 500 ms', 4_000);
  await expectText(webhooks.getByTestId('queue-concurrency'), 'at most 3 at once');
  assert.equal(await cellUnder(webhooks, 'Flow control'), 'at most 3 at once, 10 per 500 ms');
  assert.match((await webhooks.getByTestId('queue-concurrency').getAttribute('title')) ?? '', /at once, across every worker/);
  assert.equal(await page.evaluate(() => 'sameDocument' in globalThis), true, 'the page was reloaded');

  // Its button posts with the page's CSRF token, and returns to the overview.
  await webhooks.getByTestId('queue-pause').click();
  await expectText(page.getByTestId('flash'), /paused queue webhooks/i);
  assert.equal((await client.queues.get('webhooks')).paused, true);
  assert.equal(new URL(page.url()).pathname, new URL(dashboard).pathname + '/');

  // A resume made elsewhere: the badge goes, Pause comes back (the reloaded page's rows are the server's).
  await client.queues.resume('mail');
  await mail.getByTestId('queue-paused').waitFor({ state: 'detached', timeout: 4_000 });
  await mail.getByTestId('queue-pause').waitFor({ timeout: 4_000 });
  assert.match((await cellUnder(mail, 'Flow control')) ?? '', /^—$/);
});
