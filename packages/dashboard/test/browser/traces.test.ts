import assert from 'node:assert/strict';
import { it } from 'node:test';
import { expectText } from './support/expect.ts';
import { startFixture } from './support/fixture.ts';
import { seedTraces, TRACE_STACK } from './support/trace-seed.ts';

const { dir, seed, browser, serve } = await startFixture();
const traces = await seedTraces(dir, seed);
const dashboard = await serve({ traces: { store: traces.traceStore, externalUrl: 'http://localhost:16686/trace/{traceId}' } });
const plain = await serve({ basePath: '/plain' });

it("a job's page shows its whole trace; a span opens to its exception's stack", async () => {
  const page = await browser.open(`${dashboard}/jobs/${traces.jobId}`);
  const rows = page.getByTestId('span-row');
  assert.equal(await rows.count(), 10);
  assert.equal(await page.locator('[data-job-span]').count(), 4, "the job's creation, attempts and transition are highlighted");
  const failed = page.locator(`#span-${traces.failedAttempt.spanId}`);
  const stack = failed.getByTestId('span-exception').locator('pre');
  assert.equal(await stack.isVisible(), false, 'closed until opened');
  // Keyboard: the row's summary takes the focus and opens with Enter.
  await failed.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expectText(stack, 'at provisionTenant (file:///app/src/tenant-service.ts:41:13)');
  assert.equal(await stack.innerText(), TRACE_STACK);
  await expectText(page.getByTestId('external-trace-link'), 'Open in localhost:16686');
});

it('follows job → trace and span → job', async () => {
  const page = await browser.open(`${dashboard}/jobs/${traces.jobId}`);
  await page.getByTestId('trace-link').click();
  await page.waitForURL(`${dashboard}/traces/${traces.traceId}`);
  await expectText(page.getByTestId('trace-services'), 'tenants-api');
  assert.equal(await page.getByTestId('trace-errors').innerText(), '3 spans');
  const row = page.locator(`#span-${traces.failedAttempt.spanId}`);
  await row.locator('summary').click();
  await row.getByTestId('span-job-link').click();
  await page.waitForURL(`${dashboard}/jobs/${traces.jobId}`);
  await expectText(page.locator('h1'), `Job ${traces.jobId}`);
});

it('a link to a span opens its row', async () => {
  const page = await browser.open(`${dashboard}/traces/${traces.traceId}#span-${traces.failedAttempt.spanId}`);
  await page.locator(`#span-${traces.failedAttempt.spanId} details[open]`).waitFor();
});

it('runs an example query from the traces page and opens a result', async () => {
  const page = await browser.open(`${dashboard}/traces`);
  await page.getByRole('link', { name: 'Failed executions' }).click();
  await page.waitForURL(/[?&]q=/);
  assert.equal(await page.getByTestId('query-input').inputValue(), 'name LIKE "process %" AND status = ERROR');
  const results = page.getByTestId('span-result');
  await expectText(results.first(), 'process TenantService.provisionTenant');
  await results.first().getByTestId('result-job-link').click();
  await page.waitForURL(`${dashboard}/jobs/${traces.jobId}`);
});

it('types a query, and shows the parser’s message for a bad one, the form kept', async () => {
  const page = await browser.open(`${dashboard}/traces`);
  await page.getByTestId('query-input').fill('task.type = "MetadataScanTask"');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/[?&]q=/);
  assert.equal(await page.getByTestId('span-result').count(), 2);
  browser.expectRefusal(`${dashboard}/traces?q=duration+LIKE+%22x%22&service=`);
  await page.getByTestId('query-input').fill('duration LIKE "x"');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByTestId('query-error').waitFor();
  assert.equal(await page.getByTestId('query-input').inputValue(), 'duration LIKE "x"');
});

it('the tasks page lists the task spans, by status', async () => {
  const page = await browser.open(`${dashboard}/tasks`);
  assert.equal(await page.getByTestId('task-row').count(), 2);
  await page.getByRole('link', { name: 'Failed', exact: true }).click();
  await page.waitForURL(/status=Failed/);
  await expectText(page.getByTestId('task-row'), 'library volume is read-only');
});

it('without traces, the nav has no Traces, and a traced job says how to send its spans, with this origin', async () => {
  const page = await browser.open(`${plain}/traces`);
  await expectText(page.getByTestId('traces-off'), `OTEL_EXPORTER_OTLP_ENDPOINT=${new URL(plain).origin}/plain`);
  assert.equal(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Traces' }).count(), 0);
  const traced = await browser.open(`${dashboard}/jobs/${traces.jobId}`);
  assert.equal(await traced.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Traces' }).count(), 1);
});
