import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { expectAbsent, expectText } from './support/expect.ts';
import { startFixture } from './support/fixture.ts';
import { RECURRING_ID } from './support/seed.ts';

const { seed, browser, serve } = await startFixture();
const { client, ids } = seed;

/** Each dashboard under a path of its own, so that each has its own CSRF cookie. */
const writable = await serve({ basePath: '/admin/jobs' });
const readOnlyDashboards = {
  'readOnly: true': await serve({ basePath: '/read-only/jobs', readOnly: true }),
  "authorize answering 'read-only'": await serve({ basePath: '/viewer/jobs', authorize: () => 'read-only' }),
};

const ACTIONS = [
  'action-requeue',
  'action-delete',
  'bulk-select',
  'bulk-requeue',
  'bulk-delete',
  'bulk-filter-requeue',
  'bulk-filter-delete',
  'recurring-trigger',
  'recurring-remove',
  'queue-pause',
];

/** The pages that hold actions (a failed job, a list of jobs, the recurring jobs, the queues), each with an element it always shows. */
const PAGES_WITH_ACTIONS: Readonly<Record<string, string>> = {
  [`/jobs/${ids.failed}`]: 'job-state',
  '/jobs?state=Failed': 'job-row',
  '/recurring': 'recurring-row',
  '/queues': 'queue-row',
};
const PAGES: Readonly<Record<string, string>> = {
  '': 'count-Enqueued',
  '/workers': 'worker-row',
  ...PAGES_WITH_ACTIONS,
};

/** Every POST the dashboard answers, each of which would change the store. */
const POSTS: readonly (readonly [string, Record<string, string>])[] = [
  [`/jobs/${ids.failed}/requeue`, {}],
  [`/jobs/${ids.failed}/delete`, {}],
  ['/jobs/bulk', { action: 'delete', id: ids.failed }],
  ['/jobs/bulk', { action: 'requeue', scope: 'filter', state: 'Failed', confirm: '1' }],
  [`/recurring/${RECURRING_ID}/trigger`, {}],
  [`/recurring/${RECURRING_ID}/remove`, {}],
  ['/queues/mail/pause', {}],
];

async function actionsOn(dashboard: string): Promise<string[]> {
  const found = new Set<string>();
  for (const path of Object.keys(PAGES_WITH_ACTIONS)) {
    const page = await browser.open(dashboard + path);
    for (const action of ACTIONS) if ((await page.getByTestId(action).count()) > 0) found.add(action);
  }
  return [...found].sort();
}

/** A same-origin form POST made with fetch by the page itself, with the token: what the dashboard's own forms send. */
function postFromPage(page: Page, url: string, fields: Record<string, string>) {
  return page.evaluate(
    async ({ url, fields }) => {
      const response = await fetch(url, { method: 'POST', body: new URLSearchParams(fields) });
      return { status: response.status, redirected: response.redirected, text: await response.text() };
    },
    { url, fields },
  );
}

it('the writable dashboard has every action, and a POST from its page works (what read-only must take away)', async () => {
  assert.deepEqual(await actionsOn(writable), [...ACTIONS].sort());
  const page = await browser.open(writable);
  const id = ids.mail[2]!;
  const response = await postFromPage(page, `${writable}/jobs/${id}/delete`, { _csrf: await browser.csrfToken(writable) });
  assert.deepEqual([response.status, response.redirected], [200, true]);
  assert.equal((await client.getJob(id))?.state, 'Deleted');
});

for (const [name, dashboard] of Object.entries(readOnlyDashboards)) {
  describe(`read-only (${name})`, () => {
    it('says so on every page, and shows no action', async () => {
      for (const [path, content] of Object.entries(PAGES)) {
        const page = await browser.open(dashboard + path);
        await page.getByTestId(content).first().waitFor(); // the page itself, not an error page
        await expectText(page.getByTestId('read-only-banner'), /read-only/i);
        for (const action of ACTIONS) await expectAbsent(page.getByTestId(action), `${action} on ${path || '/'}`);
      }
    });

    it('refuses every POST from its page, token and all, and changes nothing', async () => {
      const page = await browser.open(`${dashboard}/jobs/${ids.failed}`);
      const token = await browser.csrfToken(dashboard);
      const before = { failed: await client.getHistory(ids.failed), counts: await client.countJobs(), queues: await client.queues.list() };
      for (const [path, fields] of POSTS) {
        browser.expectRefusal(dashboard + path);
        const response = await postFromPage(page, dashboard + path, { _csrf: token, ...fields });
        assert.equal(response.status, 403, `POST ${path}`);
        assert.match(response.text, /read-only/i, `POST ${path} should say why it is refused`);
      }
      assert.deepEqual(
        { failed: await client.getHistory(ids.failed), counts: await client.countJobs(), queues: await client.queues.list() },
        before,
      );
      assert.ok(await client.store.getRecurring(RECURRING_ID), 'the recurring job is still there');
    });
  });
}
