import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { expectAbsent, expectText } from './support/expect.ts';
import { startFixture } from './support/fixture.ts';
import { PAYLOAD_QUEUE, PAYLOADS, seedPayloads } from './support/payloads.ts';

const { seed, browser, serve, listen } = await startFixture();
const dashboard = await serve();
const { origin } = new URL(dashboard);
const { client } = seed;
const payloadJobs = await seedPayloads(seed);

/** Elements a payload would have made, had it been parsed as markup rather than shown as text. */
const INJECTED = [
  'script:not([src])',
  'img[src="x"]',
  '[onerror]',
  '[onload]',
  'a[href^="javascript:" i]',
  'form[action^="javascript:" i]',
];

/** Opens the page: each text shows literally, no payload became an element (the browser's check adds: none ran). */
async function expectShownAsText(path: string, texts: readonly string[]): Promise<Page> {
  const page = await browser.open(dashboard + path);
  for (const text of texts) await expectText(page.locator('body'), text);
  for (const selector of INJECTED) await expectAbsent(page.locator(`body ${selector}`), `an injected ${selector}`);
  return page;
}

describe('job data carrying markup is shown as text and never runs', () => {
  const pages = {
    'the overview': ['', [PAYLOAD_QUEUE]],
    'the queues': ['/queues', [PAYLOAD_QUEUE]],
    'the jobs of a queue': [`/jobs?state=Enqueued&queue=${encodeURIComponent(PAYLOAD_QUEUE)}`, PAYLOADS],
    'the failed jobs': ['/jobs?state=Failed', PAYLOADS],
    'the recurring jobs': ['/recurring', PAYLOADS],
  } as const;
  for (const [name, [path, texts]] of Object.entries(pages)) it(name, async () => void (await expectShownAsText(path, texts)));

  for (const [kind, jobIds] of Object.entries(payloadJobs)) {
    it(`the page of each job (${kind})`, async () => {
      for (const [n, id] of jobIds.entries()) {
        const page = await expectShownAsText(`/jobs/${id}`, [PAYLOADS[n]!]);
        await expectText(page.getByTestId('arguments'), PAYLOADS[n]!);
        if (kind !== 'enqueued') await expectText(page.getByTestId('exception').last(), PAYLOADS[n]!);
      }
    });
  }

  it('filters and searches given in the URL', async () => {
    for (const payload of PAYLOADS) {
      const query = new URLSearchParams({ state: 'Failed', type: payload, q: payload });
      const page = await browser.open(`${dashboard}/jobs?${query}`);
      for (const name of ['type', 'q']) assert.equal(await page.locator(`form [name=${name}]`).inputValue(), payload);
      for (const selector of INJECTED) await expectAbsent(page.locator(`body ${selector}`), `an injected ${selector}`);
    }
  });
});

describe('a cross-origin form POST', () => {
  const target = seed.ids.mail[1]!;
  const action = `${dashboard}/jobs/${target}/delete`;

  /** Another site (another port) whose page posts a form to the dashboard as soon as it loads. */
  async function attack(fields: Record<string, string>): Promise<{ status: number; text: string }> {
    const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`);
    const site = await listen((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><form method="post" action="${action}">${inputs.join('')}</form><script>document.forms[0].submit()</script>`);
    });
    const page = await browser.page([site.origin, origin]);
    browser.expectRefusal(action);
    const answered = page.waitForResponse((response) => response.url() === action);
    await page.goto(`${site.origin}/`);
    const response = await answered;
    return { status: response.status(), text: await response.text() };
  }

  it('is refused and changes nothing, without the token', async () => {
    await browser.open(`${dashboard}/jobs/${target}`); // the victim has the dashboard's cookie
    const history = await client.getHistory(target);
    const { status } = await attack({});
    assert.equal(status, 403);
    assert.deepEqual(await client.getHistory(target), history);
  });

  it('is refused for its origin and changes nothing, even with the token', async () => {
    await browser.open(`${dashboard}/jobs/${target}`);
    const history = await client.getHistory(target);
    // Leaked to the other site somehow: cookies are not kept apart by port, so the browser sends it too.
    const { status, text } = await attack({ _csrf: await browser.csrfToken(dashboard) });
    assert.equal(status, 403);
    assert.match(text, /origin/i, 'refused for its origin');
    assert.deepEqual(await client.getHistory(target), history);
  });
});

it("the browser's check catches alerts, console errors, uncaught errors and requests to other origins", async () => {
  const site = await listen((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><script>alert(1); console.error('logged');</script><img src="${dashboard}/assets/none.png">`);
  });
  const page = await browser.open(`${site.origin}/`);
  const uncaught = page.waitForEvent('pageerror');
  await page.evaluate(() => {
    setTimeout(() => {
      throw new Error('uncaught');
    });
  });
  await uncaught;
  await assert.rejects(browser.checkPages(), (error: Error) => {
    for (const problem of [
      'alert: 1',
      'console error: logged',
      'page error: uncaught',
      `request to another origin: ${dashboard}/assets/none.png`,
    ]) {
      assert.ok(error.message.includes(problem), `the check should report "${problem}": ${error.message}`);
    }
    return true;
  });
});
