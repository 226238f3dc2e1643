/**
 * `pilotlight dashboard`'s options, as a real process on a SQLite file: --base-path and --read-only
 * reach the dashboard; a non-loopback --host serves requests from the network (the operator chose to
 * be reachable) with a warning that nothing authenticates them; a bad --base-path is a usage error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, defineJob, silentLogger } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { waitFor } from '../../pilotlight/test/support/wait.ts';
import { cli, shown, startDashboard } from './cli-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'pilotlight-cli-dashboard-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'jobs.db');
let jobId: string;

before(async () => {
  const store = createSqliteStore({ path });
  jobId = await createClient({ store, logger: silentLogger }).schedule(
    defineJob('app.later', async () => {}),
    undefined,
    { delay: 3_600_000 },
  );
  await store.close();
});

/** An IPv4 address of this machine other than loopback, if it has one. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;

describe('pilotlight dashboard', () => {
  it('--base-path and --read-only: served under the path, every change refused', async () => {
    const { child, url } = await startDashboard(['--sqlite', path, '--port', '0', '--base-path', '/admin/jobs', '--read-only']);
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/admin\/jobs\/$/);
      const page = await fetch(url);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /Read-only: this dashboard shows jobs but does not change them/);
      assert.match(html, /href="\/admin\/jobs\/jobs"/);
      const root = await fetch(new URL('/', url));
      assert.equal(root.status, 404, 'nothing outside the base path');
      assert.equal(await root.text(), 'Not found. The dashboard is at /admin/jobs/\n');
      const post = await fetch(new URL(`jobs/${jobId}/delete`, url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin },
        body: '',
      });
      assert.equal(post.status, 403);
      await post.body?.cancel();
    } finally {
      child.kill('SIGTERM');
      const exited = await child.exited;
      assert.equal(exited.code, 0, shown(exited));
      assert.match(exited.stdout, /^Pilotlight dashboard stopped \(SIGTERM\)\.$/m);
    }
  });

  it('--host 0.0.0.0: a warning that it is reachable without authentication, and requests from the network served', async (t) => {
    const { child, url } = await startDashboard(['--sqlite', path, '--port', '0', '--host', '0.0.0.0']);
    try {
      assert.match(url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
      // stderr is a pipe of its own: the warning, written before the URL, may arrive after it.
      const warning =
        /^Warning: the dashboard listens on 0\.0\.0\.0, reachable from the network, without authentication: anyone who reaches it can see and change every job\./m;
      await waitFor(() => warning.test(child.output.stderr) || undefined, 'the warning on stderr', 10_000);
      if (external === undefined) {
        t.diagnostic('this machine has no IPv4 address besides loopback: the request from the network is not made');
        return;
      }
      // From this machine's network address, the request is not local: served because the host was chosen.
      const response = await fetch(`http://${external}:${new URL(url).port}/jobs/${jobId}`);
      assert.equal(response.status, 200, `a request from ${external}`);
      assert.match(await response.text(), /app\.later/);
    } finally {
      child.kill('SIGINT');
      const exited = await child.exited;
      assert.equal(exited.code, 0, shown(exited));
    }
  });

  it('on 127.0.0.1 (the default), no warning', async () => {
    const { child } = await startDashboard(['--sqlite', path, '--port', '0']);
    child.kill('SIGINT');
    const exited = await child.exited;
    assert.equal(exited.code, 0, shown(exited));
    assert.equal(exited.stderr, '');
  });

  it('a --base-path the dashboard refuses: exit 2 with its rule, the process ended (server and store closed)', async () => {
    const result = await cli(['dashboard', '--sqlite', path, '--port', '0', '--base-path', '/admin jobs']);
    assert.equal(result.code, 2, shown(result));
    assert.match(
      result.stderr,
      /^pilotlight: --base-path: createDashboard\(\) options\.basePath must be a URL path; received "\/admin jobs": pass ''/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
