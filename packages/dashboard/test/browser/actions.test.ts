import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StateName } from 'pilotlight';
import { waitFor } from '../../../pilotlight/test/support/wait.ts';
import { expectNumber, expectText } from './support/expect.ts';
import { startFixture } from './support/fixture.ts';
import { RECURRING_ID } from './support/seed.ts';

const { seed, browser, serve } = await startFixture();
const dashboard = await serve();
const { client, ids } = seed;

async function statesOf(jobIds: readonly string[]): Promise<(StateName | undefined)[]> {
  return Promise.all(jobIds.map(async (id) => (await client.getJob(id))?.state));
}

function waitForStates(jobIds: readonly string[], state: StateName) {
  return waitFor(async () => (await statesOf(jobIds)).every((each) => each === state), `jobs ${jobIds.join(', ')} to be ${state}`);
}

it('requeues the failed job from its page, and it then succeeds', async () => {
  seed.heal();
  const page = await browser.open(`${dashboard}/jobs/${ids.failed}`);
  await page.getByTestId('action-requeue').click();
  await expectText(page.getByTestId('flash'), /requeued/i);
  await waitForStates([ids.failed], 'Succeeded');
  await page.goto(`${dashboard}/jobs/${ids.failed}`);
  await expectText(page.getByTestId('job-state'), 'Succeeded');
  const history = await client.getHistory(ids.failed);
  const failed = history.findIndex((entry) => entry.name === 'Failed');
  assert.deepEqual(
    history.slice(failed).map((entry) => entry.name),
    ['Failed', 'Enqueued', 'Processing', 'Succeeded'],
  );
});

it('triggers the recurring job: a new job of it appears', async () => {
  const page = await browser.open(`${dashboard}/recurring`);
  await page.locator(`[data-testid=recurring-row][data-recurring-id="${RECURRING_ID}"]`).getByTestId('recurring-trigger').click();
  await expectText(page.getByTestId('flash'), /trigger/i);
  const jobs = await client.listJobs({ type: 'digest.send' });
  assert.deepEqual(
    jobs.map((job) => job.recurringId),
    [RECURRING_ID],
  );
  await waitForStates([jobs[0]!.id], 'Succeeded'); // the worker runs it
  await page.goto(`${dashboard}/jobs?state=Succeeded&type=digest.send`);
  await page.locator(`[data-testid=job-row][data-job-id="${jobs[0]!.id}"]`).waitFor();
});

it('deletes a job from its page', async () => {
  const id = ids.mail[2]!;
  const page = await browser.open(`${dashboard}/jobs/${id}`);
  await page.getByTestId('action-delete').click();
  await expectText(page.getByTestId('flash'), /deleted/i);
  assert.equal((await client.getJob(id))?.state, 'Deleted');
  await page.goto(`${dashboard}/jobs/${id}`);
  await expectText(page.getByTestId('job-state'), 'Deleted');
});

it('requeues every job a filter selects, once its count is confirmed', async () => {
  const page = await browser.open(`${dashboard}/jobs?state=Deleted&queue=archive`);
  await page.getByTestId('bulk-filter-requeue').click();
  await expectNumber(page.getByTestId('bulk-confirm'), ids.deleted.length);
  assert.deepEqual(await statesOf(ids.deleted), ['Deleted', 'Deleted', 'Deleted', 'Deleted'], 'nothing changes before the confirmation');
  await page.getByTestId('bulk-confirm').click();
  await expectText(page.getByTestId('flash'), new RegExp(`requeued ${ids.deleted.length} jobs`, 'i'));
  await waitForStates(ids.deleted, 'Enqueued');
});

it('deletes the jobs selected with their checkboxes', async () => {
  const page = await browser.open(`${dashboard}/jobs?state=Enqueued&queue=reports`);
  for (const id of ids.reports) await page.locator(`[data-testid=job-row][data-job-id="${id}"]`).getByTestId('bulk-select').check();
  await page.getByTestId('bulk-delete').click();
  await expectNumber(page.getByTestId('bulk-confirm'), ids.reports.length);
  await page.getByTestId('bulk-confirm').click();
  await expectText(page.getByTestId('flash'), new RegExp(`deleted ${ids.reports.length} jobs`, 'i'));
  await waitForStates(ids.reports, 'Deleted');
});

it('reaches the requeue button with Tab and presses it with Enter', async () => {
  const id = ids.succeeded[0]!;
  const page = await browser.open(`${dashboard}/jobs/${id}`);
  const focused = page.locator('[data-testid=action-requeue]:focus');
  for (let presses = 0; (await focused.count()) === 0; presses++) {
    assert.ok(presses < 40, 'the requeue button is not reachable with Tab');
    await page.keyboard.press('Tab');
  }
  const style = await focused.evaluate((button) => {
    const { outlineStyle, boxShadow } = button.ownerDocument.defaultView.getComputedStyle(button);
    return { outlineStyle, boxShadow };
  });
  assert.ok(style.outlineStyle !== 'none' || style.boxShadow !== 'none', `the focused button shows its focus: ${JSON.stringify(style)}`);
  await page.keyboard.press('Enter');
  await expectText(page.getByTestId('flash'), /requeued/i);
  await waitFor(
    async () => (await client.getHistory(id)).filter((entry) => entry.name === 'Succeeded').length === 2,
    'the requeued job to succeed again',
  );
});
