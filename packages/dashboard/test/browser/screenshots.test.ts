import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Page } from 'playwright-core';
import { VIEWPORT } from './support/browser.ts';
import { expectNumber, expectText } from './support/expect.ts';
import { startFixture } from './support/fixture.ts';
import { SEEDED_COUNTS } from './support/seed.ts';
import { seedTraces } from './support/trace-seed.ts';

/** The README's images, written only when asked (`PILOTLIGHT_UPDATE_SCREENSHOTS=1`). */
const DOCS_IMAGES = join(import.meta.dirname, '../../../../docs/images');
const UPDATE = process.env.PILOTLIGHT_UPDATE_SCREENSHOTS === '1';

const { dir, seed, browser, serve } = await startFixture();
const traces = await seedTraces(dir, seed);
const dashboard = await serve({ traces: { store: traces.traceStore, externalUrl: 'http://localhost:16686/trace/{traceId}' } });

/** A PNG of the viewport, into the test's directory (and the docs when asked); checks it is one, of the viewport's size. */
async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ path: join(dir, name) });
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  assert.deepEqual({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }, VIEWPORT);
  if (UPDATE) {
    mkdirSync(DOCS_IMAGES, { recursive: true });
    writeFileSync(join(DOCS_IMAGES, name), png);
  }
}

it("screenshots the overview, a failed job, a job's trace and the traces page, 1280x800", async () => {
  const overview = await browser.open(dashboard);
  await expectNumber(overview.getByTestId('count-Succeeded'), SEEDED_COUNTS.Succeeded);
  await overview.getByTestId('chart').locator('svg').waitFor();
  await screenshot(overview, 'dashboard-overview.png');

  const failed = await browser.open(`${dashboard}/jobs/${seed.ids.failed}`);
  await expectText(failed.getByTestId('failure'), 'TypeError');
  await screenshot(failed, 'dashboard-failed-job.png');

  // The job's trace, its failed attempt opened to its exception.
  const traced = await browser.open(`${dashboard}/jobs/${traces.jobId}`);
  const attempt = traced.locator(`#span-${traces.failedAttempt.spanId}`);
  await attempt.locator('summary').click();
  await expectText(attempt.getByTestId('span-exception'), 'at provisionTenant');
  await traced.locator('#trace-title').evaluate((element) => element.scrollIntoView({ block: 'start' }));
  await screenshot(traced, 'dashboard-job-trace.png');

  const search = await browser.open(`${dashboard}/traces`);
  await search.getByRole('link', { name: 'One job type' }).click();
  await search.waitForURL(/[?&]q=/);
  await expectText(search.getByTestId('span-result').first(), 'TenantService');
  await screenshot(search, 'dashboard-traces.png');
});
