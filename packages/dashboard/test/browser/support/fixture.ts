import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach } from 'node:test';
import { createDashboard } from '../../../src/index.ts';
import { TestBrowser } from './browser.ts';
import { listen } from './server.ts';
import { seedStore, type Seed } from './seed.ts';

type DashboardOptions = Parameters<typeof createDashboard>[0];

/** Where the tests mount the dashboard: under a sub-path, as an application would. */
export const BASE_PATH = '/admin/jobs';

export interface Fixture {
  /** The test file's own directory (its store, its screenshots), removed after the file. */
  readonly dir: string;
  readonly seed: Seed;
  readonly browser: TestBrowser;
  /**
   * Serves a dashboard of the seeded store with node:http on 127.0.0.1 (port 0), under `basePath`
   * (`BASE_PATH` unless given). Resolves to its URL, without a trailing slash.
   */
  serve(options?: Partial<DashboardOptions>): Promise<string>;
  /** Serves another site, on another port: closed after the file as well. */
  listen: typeof listen;
}

/**
 * What every browser test file starts with (at its top level): a seeded store with its worker, a
 * Chromium whose pages are checked after each test, and dashboards on demand. Everything is closed
 * after the file, newest first, even when a close fails.
 */
export async function startFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pilotlight-browser-'));
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    const failures: unknown[] = [];
    for (const close of closers.reverse()) await close().catch((error: unknown) => failures.push(error));
    rmSync(dir, { recursive: true, force: true });
    if (failures.length > 0) throw new AggregateError(failures, 'closing the browser test fixture failed');
  });
  const seed = await seedStore(dir);
  closers.push(() => seed.close());
  const browser = await TestBrowser.launch();
  closers.push(() => browser.close());
  afterEach(() => browser.checkPages());

  const listenUntilAfter: typeof listen = async (listener) => {
    const listening = await listen(listener);
    closers.push(() => listening.close());
    return listening;
  };
  return {
    dir,
    seed,
    browser,
    serve: async (options = {}) => {
      const basePath = options.basePath ?? BASE_PATH;
      const dashboard = createDashboard({ store: seed.store, ...options, basePath });
      closers.push(() => dashboard.close());
      const { origin } = await listenUntilAfter((req, res) => dashboard(req, res));
      return origin + basePath;
    },
    listen: listenUntilAfter,
  };
}
