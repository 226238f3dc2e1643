import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (CI installs it with apt-get; never a downloaded browser). */
const CHROMIUM = '/usr/bin/chromium';

/** Headless, and nothing that would reach the network on its own (sync, component updates, first-run). */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The dashboard's CSRF cookie (double submit: its forms carry the same value in `_csrf`). */
const CSRF_COOKIE = 'pilotlight_csrf';

/** The size of every page, and of the screenshots. */
export const VIEWPORT = { width: 1280, height: 800 } as const;

interface WatchedPage {
  readonly page: Page;
  readonly problems: string[];
}

/**
 * One Chromium with a fresh profile. Every page it opens is watched: a console error, an uncaught
 * error, an `alert()` or a request to an origin it was not allowed is a problem, and `checkPages()`
 * fails the test that had one.
 */
export class TestBrowser {
  readonly #context: BrowserContext;
  readonly #profile: string;
  #pages: WatchedPage[] = [];
  /** URLs the test expects to be refused: Chromium's console error about each is not a problem. */
  readonly #refusals = new Set<string>();

  private constructor(context: BrowserContext, profile: string) {
    this.#context = context;
    this.#profile = profile;
  }

  static async launch(): Promise<TestBrowser> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`The browser tests need Debian's Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does it in CI)`);
    }
    const profile = mkdtempSync(join(tmpdir(), 'pilotlight-chromium-'));
    try {
      // launch() refuses --user-data-dir among its args: a profile of our own takes the persistent form.
      const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, viewport: VIEWPORT });
      context.setDefaultTimeout(10_000);
      return new TestBrowser(context, profile);
    } catch (error) {
      rmSync(profile, { recursive: true, force: true });
      throw error;
    }
  }

  /** A new watched page, which may request only from `allowedOrigins`. */
  async page(allowedOrigins: readonly string[]): Promise<Page> {
    const page = await this.#context.newPage();
    this.#pages.push({ page, problems: watch(page, new Set(allowedOrigins), this.#refusals) });
    return page;
  }

  /** Opens `url` in a new watched page, which may request only from its own origin and `alsoAllowed`. */
  async open(url: string, alsoAllowed: readonly string[] = []): Promise<Page> {
    const page = await this.page([new URL(url).origin, ...alsoAllowed]);
    await page.goto(url);
    return page;
  }

  /** The test means `url` to be refused (4xx) when its pages request it, until the next `checkPages()`. */
  expectRefusal(url: string): void {
    this.#refusals.add(url);
  }

  /** Closes the pages opened since the last call; fails if any of them had a problem. */
  async checkPages(): Promise<void> {
    const problems = this.#pages.flatMap(({ page, problems }) => problems.map((problem) => `${page.url()}: ${problem}`));
    const pages = this.#pages;
    this.#pages = [];
    this.#refusals.clear();
    await Promise.all(pages.map(({ page }) => page.close()));
    assert.deepEqual(problems, [], 'the pages had console errors, page errors, alerts or requests to other origins');
  }

  /**
   * The CSRF token the dashboard at `dashboard` (its URL, base path included) gave the browser: its
   * HttpOnly cookie for that path, which no page script can read. Fails when there is none.
   */
  async csrfToken(dashboard: string): Promise<string> {
    const { pathname } = new URL(dashboard);
    const cookies = await this.#context.cookies(dashboard);
    const cookie = cookies.find((candidate) => candidate.name === CSRF_COOKIE && candidate.path === pathname);
    assert.ok(cookie?.httpOnly, `the dashboard at ${pathname} set no HttpOnly ${CSRF_COOKIE} cookie for its path`);
    return cookie.value;
  }

  async close(): Promise<void> {
    await this.#context.close();
    rmSync(this.#profile, { recursive: true, force: true });
  }
}

function watch(page: Page, allowedOrigins: ReadonlySet<string>, refusals: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    const refused = message.text().startsWith('Failed to load resource') && refusals.has(message.location().url);
    if (message.type() === 'error' && !refused) problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    if (dialog.type() === 'alert') problems.push(`alert: ${dialog.message()}`);
    void dialog.accept(); // a confirm() of the dashboard's own says yes; an alert() is a problem anyway
  });
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'data:' && !allowedOrigins.has(url.origin)) problems.push(`request to another origin: ${request.url()}`);
  });
  return problems;
}
