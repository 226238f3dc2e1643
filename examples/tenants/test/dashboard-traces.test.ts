/**
 * The tenants example with its processes exporting to the dashboard, as `npm start` runs it: the
 * stub, API and worker send their spans over OTLP to the dashboard process, which keeps them in its
 * trace store. In real Chromium, the flaky tenant's job page shows one waterfall across the three
 * processes:
 *
 *   POST /api/tenants                                  tenants-api     SERVER
 *   └ request handler
 *     ├ enqueue TenantService.provisionTenant          tenants-api     PRODUCER
 *     │ ├ process TenantService.provisionTenant        tenants-worker  CONSUMER  Error (attempt 1, its exception)
 *     │ │ ├ db.insert tenants, POST → POST (stub)
 *     │ ├ transition TenantService.provisionTenant     tenants-worker  (the retry is due)
 *     │ └ process TenantService.provisionTenant        tenants-worker  CONSUMER  (attempt 2)
 *     │   ├ db.insert tenants, POST → POST (tenants-stub), db.insert tenant_settings, db.update tenants
 *     └ continue WelcomeService.sendWelcome …
 *
 * and the traces page answers the tracing docs' queries, the tasks page shows the scan.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { TestBrowser } from '../../../packages/dashboard/test/browser/support/browser.ts';
import { expectText } from '../../../packages/dashboard/test/browser/support/expect.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TIMEOUT = 120_000;

interface Row {
  readonly id: string;
  readonly depth: number;
  readonly name: string;
  readonly kind: string;
  readonly service: string;
  readonly status: string;
  /** The span id of the row it nests under (the closest row above it one level up). */
  readonly parent: string | undefined;
}

/** The waterfall's rows, in tree order, with their parents worked out from their depths. */
async function waterfallRows(page: Page): Promise<Row[]> {
  const flat = await page.getByTestId('span-row').evaluateAll((items) =>
    items.map((item) => {
      const field = (name: string) => item.querySelector(`[data-field="${name}"]`)?.textContent?.trim() ?? '';
      return {
        id: item.getAttribute('data-span-id') ?? '',
        depth: Number(item.getAttribute('data-depth')),
        name: field('span-name'),
        kind: item.querySelector('.kind')?.textContent?.trim() ?? '',
        service: field('service'),
        status: field('status'),
      };
    }),
  );
  const path: string[] = [];
  return flat.map((row) => {
    path[row.depth] = row.id;
    return { ...row, parent: row.depth > 0 ? path[row.depth - 1] : undefined };
  });
}

const childrenOf = (rows: readonly Row[], parent: Row) => rows.filter((row) => row.parent === parent.id);

test(
  'npm start: every process exports to the dashboard, and the flaky job’s page shows its whole trace',
  { timeout: TIMEOUT },
  async (t) => {
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('OTEL_')) delete env[key];
    // Its own process group, as in a terminal: SIGINT to the group is Ctrl-C.
    const demo = spawn('npm', ['start', '--', '--keep-running'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    t.after(() => {
      try {
        process.kill(-demo.pid!, 'SIGKILL');
      } catch {
        // ESRCH: the group is gone, as it should be
      }
    });
    let output = '';
    const closed = new Promise<void>((resolve) => demo.once('close', () => resolve()));
    const url = await new Promise<string>((resolve, reject) => {
      demo.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const kept = /demo\s*│ The processes keep running: open the dashboard at (\S+) \(Ctrl-C stops them\)\./.exec(output);
        if (kept) resolve(kept[1]!);
      });
      demo.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      void closed.then(() => reject(new Error(`the demo exited before it said it keeps running:\n${output}`)));
    });
    assert.match(output, new RegExp(`traces sent to ${url.replace(/\/$/, '')}\\n`), 'the processes export to the dashboard');
    const flaky = /job (\d+) TenantService\.provisionTenant\s+Enqueued → Processing → Scheduled/.exec(output)?.[1];
    assert.ok(flaky, `the summary names the retried job:\n${output}`);

    const browser = await TestBrowser.launch();
    t.after(() => browser.close());

    // The job's page: its trace, as the processes exported it (every 0.5 s), in one waterfall.
    const page = await browser.open(`${url}jobs/${flaky}`);
    let rows: Row[] = [];
    for (const deadline = Date.now() + 15_000; ; await page.reload()) {
      rows = await waterfallRows(page);
      const attempts = rows.filter((row) => row.name === 'process TenantService.provisionTenant');
      if ((attempts.length === 2 && childrenOf(rows, attempts[1]!).length === 4) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const describe = () => rows.map((row) => `${'  '.repeat(row.depth)}${row.name} [${row.service} ${row.kind} ${row.status}]`).join('\n');
    const [root] = rows;
    assert.deepEqual(
      root && { name: root.name, service: root.service, kind: root.kind, depth: root.depth },
      { name: 'POST /api/tenants', service: 'tenants-api', kind: 'server', depth: 0 },
      `the trace starts at the API's request:\n${describe()}`,
    );
    const enqueue = rows.find((row) => row.name === 'enqueue TenantService.provisionTenant');
    assert.ok(enqueue && enqueue.kind === 'producer' && enqueue.service === 'tenants-api', `the creation span:\n${describe()}`);
    const underCreation = childrenOf(rows, enqueue);
    const attempts = underCreation.filter((row) => row.name === 'process TenantService.provisionTenant');
    assert.equal(attempts.length, 2, `two attempts under the creation span:\n${describe()}`);
    const [first, second] = attempts as [Row, Row];
    assert.deepEqual([first.service, first.kind, first.status], ['tenants-worker', 'consumer', 'Error'], describe());
    assert.deepEqual([second.service, second.kind, second.status], ['tenants-worker', 'consumer', 'unset'], describe());
    assert.ok(
      underCreation.some((row) => row.name === 'transition TenantService.provisionTenant'),
      `the retry's transition:\n${describe()}`,
    );
    // The handler's own spans, under each attempt: the app database and the call to the stub (which answered in its process).
    assert.deepEqual(
      childrenOf(rows, second).map((row) => `${row.name} ${row.kind}`),
      ['db.insert tenants client', 'POST client', 'db.insert tenant_settings client', 'db.update tenants client'],
    );
    const call = childrenOf(rows, second).find((row) => row.name === 'POST')!;
    assert.deepEqual(
      childrenOf(rows, call).map((row) => `${row.service} ${row.kind}`),
      ['tenants-stub server'],
    );
    assert.ok(
      childrenOf(rows, first).some((row) => row.name === 'POST' && row.status === 'Error'),
      'the failing call is under the first attempt',
    );

    // The first attempt opens to its exception, with its stack.
    const failed = page.locator(`#span-${first.id}`);
    await failed.locator('summary').click();
    const exception = failed.getByTestId('span-exception');
    await expectText(exception, 'storage for globex-flaky is not ready yet');
    await expectText(exception.locator('pre'), /at .*jobs\.ts:\d+:\d+/);
    await expectText(failed.getByTestId('span-details'), 'State Applied');

    // The traces page answers the tracing docs' queries as written.
    const query = async (text: string): Promise<string[]> => {
      const results = await browser.open(`${url}traces?q=${encodeURIComponent(text)}`);
      await results.getByTestId('results-title').waitFor();
      return results.getByTestId('span-result').locator('.span-name').allInnerTexts();
    };
    const failedExecutions = await query('name LIKE "process %" AND status = ERROR');
    assert.deepEqual(
      failedExecutions.map((name) => name.replace(/\s+/g, ' ')),
      ['process TenantService.provisionTenant'],
    );
    const oneType = await query('pilotlight.job.type = "TenantService"');
    assert.ok(oneType.length >= 4, `the creation and attempts of both TenantService jobs: ${oneType.join(', ')}`);
    assert.ok(
      oneType.every((name) => name.replace(/\s+/g, ' ').includes('TenantService.provisionTenant')),
      oneType.join(', '),
    );
    assert.deepEqual(await query('name LIKE "process %" AND duration > 5m'), [], 'no execution took five minutes');
    assert.deepEqual(await query('task.status = "Failed"'), [], 'no task failed');
    assert.deepEqual(
      (await query('task.type = "MetadataScanTask"')).map((name) => name.trim()),
      ['BackgroundTask.MetadataScanTask'],
    );
    assert.deepEqual(
      (await query('name LIKE "BackgroundTask.%" AND task.duration_ms > 50')).map((name) => name.trim()),
      ['BackgroundTask.MetadataScanTask'],
      'the scan takes about 100 ms',
    );

    // The tasks page: the scan, from its span.
    const tasks = await browser.open(`${url}tasks`);
    const task = tasks.getByTestId('task-row');
    await expectText(task, 'MetadataScanTask');
    await expectText(task, 'Completed');
    await expectText(task, 'Tenant metadata scan');
    await browser.checkPages();

    process.kill(-demo.pid!, 'SIGINT');
    await closed;
    assert.match(output, /demo\s*│ Done\.$/m, `the demo stops cleanly on Ctrl-C:\n${output}`);
    // Every signal the SDKs send to the one endpoint is taken (metrics too, kept nowhere): no export failed.
    assert.doesNotMatch(output, /OTLPExporterError|export failed/i, output);
  },
);
