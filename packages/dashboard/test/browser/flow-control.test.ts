import assert from 'node:assert/strict';
import { it } from 'node:test';
import { waitFor } from '../../../pilotlight/test/support/wait.ts';
import { expectAbsent, expectNumber, expectText } from './support/expect.ts';
import { startFixture } from './support/fixture.ts';

const { seed, browser, serve } = await startFixture();
const dashboard = await serve();
const { client, jobs } = seed;

it('pauses a queue with its button, shows the badge, and resumes it', async () => {
  const page = await browser.open(`${dashboard}/queues`);
  const row = page.locator('[data-testid=queue-row][data-queue="mail"]');
  await expectAbsent(row.getByTestId('queue-paused'), 'a Paused badge before the pause');
  await row.getByTestId('queue-pause').click();
  await expectText(page.getByTestId('flash'), /paused queue mail/i);
  await expectText(row.getByTestId('queue-paused'), 'Paused');
  assert.equal((await client.queues.get('mail')).paused, true);

  await row.getByTestId('queue-resume').click();
  await expectText(page.getByTestId('flash'), /resumed queue mail/i);
  await row.getByTestId('queue-pause').waitFor();
  await expectAbsent(row.getByTestId('queue-paused'), 'a Paused badge once resumed');
  assert.equal((await client.queues.get('mail')).paused, false);
});

it("opens a batch's page from a member's page: its members by state, and its continuation", async () => {
  // Two members the worker runs (the default queue), one it never takes (the reports queue).
  const members = [
    await client.enqueue(jobs.report, { report: 1001 }),
    await client.enqueue(jobs.report, { report: 1002 }),
    await client.enqueue(jobs.invoice, { invoice: 'INV-BATCH' }),
  ];
  const continuation = await client.continueWhenAll(members, jobs.digest, { list: 'batch-done' });
  await waitFor(
    async () => (await Promise.all(members.slice(0, 2).map((id) => client.getJob(id)))).every((job) => job?.state === 'Succeeded'),
    'the worker to run the two members of the default queue',
  );
  const page = await browser.open(`${dashboard}/jobs/${members[0]}`);
  await page.getByTestId('batch-link').click();
  await page.waitForURL(/\/batches\/[^/?]+$/);
  await expectNumber(page.getByTestId('batch-count-Succeeded'), 2);
  await expectNumber(page.getByTestId('batch-count-Enqueued'), 1);
  await expectNumber(page.getByTestId('batch-count-all'), 3);
  await expectText(page.getByTestId('batch-progress'), '3 members: 2 finished, 2 succeeded.');
  assert.equal(await page.getByTestId('job-row').count(), 3);
  await page.locator(`[data-testid=batch-continuation][data-job-id="${continuation}"]`).getByRole('link').click();
  await expectText(page.getByTestId('job-state'), 'Awaiting');
  await page.getByTestId('awaits-batch-link').click();
  await page.getByRole('link', { name: /^Succeeded/ }).click();
  await page.waitForURL(/state=Succeeded/);
  assert.deepEqual(
    await page.getByTestId('job-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job-id'))),
    members.slice(0, 2).reverse(),
  );
});
