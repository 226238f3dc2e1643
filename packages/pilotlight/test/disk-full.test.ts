/**
 * A full disk on the SQLite store. SQLite rolls a transaction back itself on SQLITE_FULL; the
 * store's own ROLLBACK then threw "cannot rollback - no transaction is active", which replaced the
 * real error everywhere (enqueue, heartbeats, maintenance, outcomes). Now the caller gets a
 * `StoreFullError` (code STORE_FULL, cause the SQLite error) and workers retry until space returns.
 *
 * Two ways to fill the disk, each a describe block:
 * - a real 8 MiB tmpfs (`mount -t tmpfs`, root only), filled with a file: the OS's own ENOSPC.
 *   Skipped, saying why, where mounting is not allowed.
 * - `PRAGMA max_page_count`, which SQLite answers with the same SQLITE_FULL, everywhere. It is a
 *   setting of one connection, so it must be set on the store's own: the test catches that
 *   connection while the store opens (wrapping `DatabaseSync.prototype.exec` for the duration of
 *   createSqliteStore()), rather than adding a test hook to the store.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { createClient, defineJob, ErrorCodes, StoreFullError, type Logger } from '../src/index.ts';
import { createSqliteStore, type SqliteStore } from '../src/sqlite.ts';
import { tempDir, testWorker, waitFor } from './support/helpers.ts';

interface Disk {
  readonly store: SqliteStore;
  readonly path: string;
  /** Whether heartbeats fail too (they need new space only where every write does, as on a real disk). */
  readonly heartbeatsFail: boolean;
  /** Takes away the free space (the next writes fail). */
  fill(): void;
  /** Gives it back. */
  free(): void;
}

/** The store's own DatabaseSync, caught while it opens. */
function openCatchingConnection(path: string): { store: SqliteStore; db: DatabaseSync } {
  const exec = DatabaseSync.prototype.exec;
  let db: DatabaseSync | undefined;
  DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
    db ??= this;
    return exec.call(this, sql);
  };
  try {
    const store = createSqliteStore({ path });
    return { store, db: db! };
  } finally {
    DatabaseSync.prototype.exec = exec;
  }
}

function pageCountDisk(): Disk {
  const path = join(tempDir(), 'jobs.db');
  const { store, db } = openCatchingConnection(path);
  after(() => store.close());
  return {
    store,
    path,
    // A heartbeat updates its rows in place: it needs no new page, so it never fails this way.
    heartbeatsFail: false,
    fill: () => {
      const { page_count } = db.prepare('PRAGMA page_count').get() as { page_count: number };
      db.exec(`PRAGMA max_page_count = ${page_count}`);
    },
    free: () => db.exec('PRAGMA max_page_count = 1073741823'),
  };
}

/** Why no tmpfs can be mounted here (not root, no mount), or undefined if one can. */
function tmpfsUnavailable(): string | undefined {
  const dir = join(tempDir(), 'probe');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here: ${String((error as Error).message).split('\n')[0]}`;
  }
}

/** A store on an 8 MiB tmpfs of its own; filled with a file. */
function tmpfsDisk(): Disk {
  const dir = mkdtempSync(join(tmpdir(), 'pilotlight-disk-full-'));
  let mounted = false;
  let store: SqliteStore | undefined;
  after(async () => {
    try {
      await store?.close();
    } finally {
      if (mounted) execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    }
  });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
  mounted = true;
  const path = join(dir, 'jobs.db');
  store = createSqliteStore({ path });
  const filler = join(dir, 'filler');
  return {
    store,
    path,
    heartbeatsFail: true,
    fill: () => {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        // The last bytes, smaller than a chunk.
        try {
          for (;;) writeSync(fd, Buffer.alloc(512, 1));
        } catch {}
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler),
  };
}

const ballast = defineJob('ballast', (_: string) => undefined);
/** Ballast of shrinking sizes: the smaller ones fill what slack the larger ones left in pages. */
const BALLAST = [64 * 1024, 4 * 1024, 256, 32].map((size) => 'b'.repeat(size));

/**
 * Fills the disk, then enqueues ballast (on a queue no worker serves) until the database itself
 * is full: SQLite may still have room in its pages or its WAL file when the disk has none.
 * Resolves to the first error of the largest ballast.
 */
async function fillUp(disk: Disk, enqueue: (args: string) => Promise<string>): Promise<unknown> {
  disk.fill();
  let first: unknown;
  for (const ballast of BALLAST) {
    for (let i = 0; ; i++) {
      if (i === 2_000) throw new Error('the database never became full');
      try {
        await enqueue(ballast);
      } catch (error) {
        first ??= error;
        break;
      }
    }
  }
  return first;
}

function integrityCheck(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

/**
 * The tests on one way of filling the disk. `workerToo`: also the worker test, which needs every
 * write to fail (see the max_page_count block below).
 */
function diskFullTests(open: () => Disk, skip: string | undefined, workerToo: boolean): void {
  it(
    'enqueue into a full database rejects with a StoreFullError saying "database or disk is full"; it works again once space returns',
    { skip },
    async () => {
      const disk = open();
      const client = createClient({ store: disk.store });
      const error = await fillUp(disk, (args) => client.enqueue(ballast, args, { queue: 'ballast' }));
      assert.ok(error instanceof StoreFullError, `a StoreFullError, not ${String(error)}`);
      assert.equal(error.code, ErrorCodes.STORE_FULL);
      assert.match(error.message, /database or disk is full/);
      assert.doesNotMatch(error.message, /cannot rollback/);
      assert.match((error.cause as Error).message, /database or disk is full/);
      // Still full: the same error again, not a connection stuck in a transaction.
      await assert.rejects(() => client.enqueue(ballast, BALLAST[0]!, { queue: 'ballast' }), StoreFullError);
      disk.free();
      const id = await client.enqueue(ballast, 'x', { queue: 'ballast' });
      assert.equal((await client.getJob(id))?.state, 'Enqueued');
      assert.equal(integrityCheck(disk.path), 'ok');
    },
  );

  if (!workerToo) return;
  it(
    'a worker running jobs while the disk fills retries their outcomes and records them all once space returns; heartbeats and maintenance log the real error',
    { skip, timeout: 60_000 },
    async () => {
      const disk = open();
      const logged: { message: string; error: unknown }[] = [];
      const logger: Logger = {
        debug: () => undefined,
        info: () => undefined,
        warn: (message, details) => void logged.push({ message, error: details?.error }),
        error: (message, details) => void logged.push({ message, error: details?.error }),
      };
      const client = createClient({ store: disk.store, logger });
      const runs = new Map<number, number>();
      let full = false;
      const finishedWhileFull = new Set<number>();
      const work = defineJob('work', async (n: number) => {
        runs.set(n, (runs.get(n) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 30));
        if (full) finishedWhileFull.add(n);
      });
      const ids: string[] = [];
      for (let n = 0; n < 40; n++) ids.push(await client.enqueue(work, n));
      // A job that falls due while the disk is full: maintenance fails to promote it.
      ids.push(await client.schedule(work, 40, { delay: 300 }));
      // A long lease: the jobs waiting for their outcomes stay this worker's while heartbeats fail.
      const worker = testWorker({ store: disk.store, jobs: [work], concurrency: 4, logger, leaseDuration: 60_000 });
      await worker.start();
      await waitFor(() => runs.size >= 4, 'the first jobs to run');
      full = true;
      await fillUp(disk, (args) => client.enqueue(ballast, args, { queue: 'ballast' }));
      const failedWith = (pattern: RegExp) => logged.filter((entry) => pattern.test(entry.message)).map((entry) => entry.error);
      await waitFor(
        () =>
          failedWith(/could not record the outcomes/).length > 0 &&
          failedWith(/^Maintenance failed/).length > 0 &&
          (!disk.heartbeatsFail || failedWith(/heartbeat/).length > 0),
        `outcome${disk.heartbeatsFail ? ', heartbeat' : ''} and maintenance failures to be logged; logged: ${logged.map((e) => e.message).join(' | ')}`,
      );
      assert.ok(finishedWhileFull.size > 0, 'jobs finished while the disk was full');
      disk.free();
      full = false;
      for (const id of ids) {
        await waitFor(async () => (await client.getJob(id))?.state === 'Succeeded', `job ${id} to succeed`, 20_000);
      }
      assert.deepEqual(
        [...runs.entries()].filter(([, count]) => count !== 1),
        [],
        'every job ran exactly once: nothing lost, nothing re-run',
      );
      assert.equal(runs.size, 41);
      for (const what of [/could not record the outcomes/, /heartbeat/, /^Maintenance failed/]) {
        for (const error of failedWith(what)) {
          assert.ok(error instanceof StoreFullError, `${what}: logged ${String(error)}`);
          assert.match(error.message, /database or disk is full/);
        }
      }
      assert.deepEqual(
        logged.filter((entry) => /cannot rollback/.test(String(entry.error))),
        [],
        'no rollback error replaced the real one',
      );
      await worker.stop();
      assert.equal(integrityCheck(disk.path), 'ok');
    },
  );
}

describe('disk full (SQLite), filled through PRAGMA max_page_count on the store connection', () => {
  // A write that fits in the slack of pages it already has needs no new page: most outcomes fit, so
  // the worker would never see a full database. A real full disk fails them all (the block below).
  diskFullTests(pageCountDisk, undefined, false);
});

describe('disk full (SQLite), on a real tmpfs filled with a file', () => {
  diskFullTests(tmpfsDisk, tmpfsUnavailable(), true);
});
