import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, PilotlightError, StoreClosedError, ValidationError } from '../src/errors.ts';
import { newJob, storeContract } from '../src/testing.ts';
import { SQLITE_MIGRATIONS } from '../src/storage/sqlite/migrations.ts';
import { createSqliteStore, type SqliteStore } from '../src/sqlite.ts';
import type { StoreEvent } from '../src/storage/store.ts';
import { tempDir, waitFor } from './support/helpers.ts';
import { assertLegacyCounted, legacyMinute, legacyRows } from './support/migration-3-rows.ts';

const dir = tempDir();
let files = 0;
/** A path no other test uses. */
function freshPath(): string {
  return join(dir, `store-${++files}.db`);
}

/** Runs `sql` on the store's file through a connection of its own that ignores the schema's CHECK constraints. */
function corrupt(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA ignore_check_constraints = ON'); // for this connection only
    db.exec(sql);
  } finally {
    db.close();
  }
}

storeContract('SqliteStore', () => createSqliteStore({ path: freshPath() }), {
  corrupt: async (store, sql) => corrupt((store as SqliteStore).path, sql),
});

/** Opens stores and closes them at the end of the test, even when it fails. */
async function withStores<T>(body: (open: (path: string) => SqliteStore) => Promise<T>): Promise<T> {
  const opened: SqliteStore[] = [];
  try {
    return await body((path) => {
      const store = createSqliteStore({ path });
      opened.push(store);
      return store;
    });
  } finally {
    for (const store of opened) await store.close();
  }
}

function migrationVersions(path: string): number[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT version FROM pilotlight_migrations ORDER BY version').all() as { version: number }[]).map(
      (row) => row.version,
    );
  } finally {
    db.close();
  }
}

/** Files of this process whose path starts with `path` (the database, its -wal and -shm), from /proc. */
function openHandles(path: string): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // closed meanwhile (the fd of readdir itself)
      }
    })
    .filter((target) => target.startsWith(path));
}

describe('SqliteStore (SQLite specifics)', () => {
  it('two stores on the same file see each other’s writes', () =>
    withStores(async (open) => {
      const path = freshPath();
      const a = open(path);
      const b = open(path);

      const [created] = await a.createJobs([newJob({ queue: 'shared' })]);
      assert.equal((await b.getJob(created!.id))?.queue, 'shared');

      const [claimed] = await b.claimJobs({
        queues: ['shared'],
        limit: 1,
        serverName: 'b',
        now: new Date(),
        leaseUntil: new Date(Date.now() + 30_000),
      });
      assert.equal(claimed?.id, created!.id);
      const seenByA = await a.getJob(created!.id);
      assert.equal(seenByA?.state, 'Processing');
      assert.equal(seenByA?.serverName, 'b');
      assert.deepEqual(await a.claimJobs({ queues: ['shared'], limit: 1, serverName: 'a', now: new Date(), leaseUntil: new Date() }), []);

      await a.upsertRecurring({
        id: 'r',
        cron: '* * * * *',
        timeZone: 'UTC',
        misfire: 'skip',
        type: 'T',
        method: '',
        argsJson: '[]',
        queue: 'shared',
        priority: 0,
        retry: {},
        nextRunAt: new Date(0),
      });
      assert.equal((await b.listDueRecurring(new Date(), 10)).length, 1);
    }));

  it('two stores on the same file never claim the same job', () =>
    withStores(async (open) => {
      const path = freshPath();
      const a = open(path);
      const b = open(path);
      const created = await a.createJobs(Array.from({ length: 40 }, () => newJob()));
      const claims = (name: string, store: SqliteStore) =>
        Promise.all(
          Array.from({ length: 10 }, () =>
            store.claimJobs({
              queues: ['default'],
              limit: 3,
              serverName: name,
              now: new Date(),
              leaseUntil: new Date(Date.now() + 30_000),
            }),
          ),
        );
      const batches = (await Promise.all([claims('a', a), claims('b', b)])).flat(2);
      const ids = batches.map((claimed) => claimed.id);
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual([...ids].sort(), created.map((result) => result.id).sort());
    }));

  it('wakes a store on the same file within a second when another one enqueues a job', () =>
    withStores(async (open) => {
      const path = freshPath();
      const writer = open(path);
      const reader = open(path);
      const events: StoreEvent[] = [];
      reader.subscribe((event) => events.push(event));
      await new Promise((resolve) => setTimeout(resolve, 50)); // let the watcher settle

      const start = Date.now();
      await writer.createJobs([newJob({ queue: 'mail' })]);
      await waitFor(() => events.some((event) => event.type === 'wake'), 'a wake event in the other store', 1_000);
      assert.ok(Date.now() - start <= 1_000);
      assert.equal(events.filter((event) => event.type === 'state').length, 0, 'state events are only for changes made in this process');
    }));

  it('wakes a store for every job another process enqueues, each within a second', { timeout: 60_000 }, () =>
    withStores(async (open) => {
      const path = freshPath();
      const reader = open(path);
      let wakes = 0;
      reader.subscribe((event) => {
        if (event.type === 'wake') wakes++;
      });

      // The other process enqueues one job each time it is told to, and reports the job's id.
      const storeModule = fileURLToPath(new URL('../src/sqlite.ts', import.meta.url));
      const script = `
        const { createSqliteStore } = await import(${JSON.stringify(storeModule)});
        const store = createSqliteStore({ path: ${JSON.stringify(path)} });
        process.on('message', async (n) => {
          if (n === 'stop') { await store.close(); process.disconnect(); return; }
          const at = new Date();
          const [result] = await store.createJobs([{ type: 'Child', method: '', argsJson: JSON.stringify([n]), queue: 'default',
            priority: 0, retry: {}, state: { name: 'Enqueued', at }, runAt: at, metadata: {} }]);
          process.send(result.id);
        });
        process.send('ready');`;
      const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const replies: string[] = [];
      child.on('message', (message) => replies.push(String(message)));
      try {
        await waitFor(() => replies.includes('ready'), 'the other process to open the store', 10_000);
        await new Promise((resolve) => setTimeout(resolve, 50));

        // A missed wake-up is rare (it needs a check to run in the instant between the other
        // process writing its -wal file and publishing the commit), so give it many chances.
        for (let n = 0; n < 100; n++) {
          const before = wakes;
          child.send(n);
          const id = await waitFor(() => replies[n + 1], `the other process to enqueue job ${n}`, 10_000);
          await waitFor(() => wakes > before, `a wake after job ${n} (id ${id}) was enqueued by the other process`, 1_000);
        }
        assert.equal((await reader.getJob(replies[100]!))?.argsJson, '[99]');
      } finally {
        if (child.connected) child.send('stop');
        else child.kill();
        await exited;
      }
    }),
  );

  it('does not wake itself from the file watcher: only its own write emits a wake', () =>
    withStores(async (open) => {
      const store = open(freshPath());
      const events: StoreEvent[] = [];
      store.subscribe((event) => events.push(event));
      await store.createJobs([newJob({ state: { name: 'Scheduled', at: new Date(), runAt: new Date(Date.now() + 60_000) } })]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(events, []);
    }));

  it('runs each migration once, and keeps the data when the file is opened again', async () => {
    const path = freshPath();
    const first = createSqliteStore({ path });
    const [created] = await first.createJobs([newJob({ type: 'Survivor' })]);
    await first.migrate();
    await first.close();
    const expected = SQLITE_MIGRATIONS.map((_, i) => i + 1);
    assert.deepEqual(migrationVersions(path), expected);

    const second = createSqliteStore({ path });
    try {
      await second.migrate();
      assert.equal((await second.getJob(created!.id))?.type, 'Survivor');
      assert.equal((await second.getHistory(created!.id)).length, 1);
    } finally {
      await second.close();
    }
    assert.deepEqual(migrationVersions(path), expected);
  });

  it('a claim fails rows whose metadata or retry is not JSON at all, naming the column; a due time that is text is due now', () =>
    withStores(async (open) => {
      const path = freshPath();
      const store = open(path);
      const [badMetadata, badRetry, good] = await store.createJobs([newJob({ priority: 5 }), newJob({ priority: 5 }), newJob()]);
      const [later] = await store.createJobs([newJob({ state: { name: 'Scheduled', at: new Date(0), runAt: new Date(8.64e15) } })]);
      corrupt(path, `UPDATE jobs SET metadata = '{tenant: acme' WHERE id = ${badMetadata!.id}`);
      corrupt(path, `UPDATE jobs SET retry = 'nope' WHERE id = ${badRetry!.id}`);
      corrupt(path, `UPDATE jobs SET run_at = 'tomorrow' WHERE id = ${later!.id}`);

      const now = new Date();
      const claimed = await store.claimJobs({
        queues: ['default'],
        limit: 1,
        serverName: 'w',
        now,
        leaseUntil: new Date(now.getTime() + 30_000),
      });
      assert.deepEqual(
        claimed.map((job) => job.id),
        [good!.id],
      );
      const failed = await store.getJob(badMetadata!.id);
      assert.equal(failed?.state, 'Failed');
      assert.match(failed?.stateReason ?? '', /^Unreadable row: column metadata is not valid JSON \(.*\)$/);
      assert.match((await store.getJob(badRetry!.id))?.stateReason ?? '', /^Unreadable row: column retry is not valid JSON \(.*\)$/);

      const [due] = await store.listDueJobs(now, 10);
      assert.equal(due?.id, later!.id);
      assert.match(due?.stateReason ?? '', /^Unreadable row: column run_at is not a time in epoch milliseconds \("tomorrow"\)$/);
    }));

  it('migration 2 fails the legacy rows it cannot read (naming the column), gives lease-less Processing jobs an expired lease, then its CHECK constraints refuse such rows', () =>
    withStores(async (open) => {
      const path = freshPath();
      // A file at version 1, as the previous release left it, with rows no version can run.
      const legacy = new DatabaseSync(path);
      legacy.exec(SQLITE_MIGRATIONS[0]!);
      legacy.exec('CREATE TABLE pilotlight_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      legacy.exec('INSERT INTO pilotlight_migrations VALUES (1, 0)');
      const insert = legacy.prepare(
        `INSERT INTO jobs (type, method, args, queue, priority, state, run_at, created_at, state_changed_at, retry, metadata, lease_until, history)
         VALUES ('Legacy', '', '[]', 'default', 0, ?, ?, 0, 1000, ?, ?, NULL, '{"name":"Enqueued","at":0}')`,
      );
      insert.run('Bogus', 0, null, null);
      insert.run('Scheduled', 'soon', null, null);
      insert.run('Enqueued', 0, 'nope', '{bad');
      insert.run('Processing', 0, null, null);
      insert.run('Enqueued', 0, '{"attempts":2}', '{"tenant":"acme"}');
      // The newest job deleted: AUTOINCREMENT must not hand its id out again after the table's rebuild.
      const newest = Number(insert.run('Succeeded', 0, null, null).lastInsertRowid);
      legacy.exec(`DELETE FROM jobs WHERE id = ${newest}`);
      legacy.close();

      const store = open(path);
      const [bogus, runAt, json, leaseless, sound] = (await store.listJobs({})).reverse();
      // Migration 3 counts the rows as migration 2 left them.
      assert.deepEqual(await store.countJobs(), {
        Enqueued: 1,
        Scheduled: 0,
        Awaiting: 0,
        Processing: 1,
        Succeeded: 0,
        Failed: 3,
        Deleted: 0,
      });
      assert.equal(bogus!.state, 'Failed');
      assert.equal(
        bogus!.stateReason,
        "Unreadable row: column state holds 'Bogus', not one of the 7 states (Enqueued, Scheduled, Awaiting, Processing, Succeeded, Failed, Deleted) (found by schema migration 2)",
      );
      assert.equal(runAt!.state, 'Failed');
      assert.equal(
        runAt!.stateReason,
        "Unreadable row: column run_at is not a time in epoch milliseconds ('soon') (found by schema migration 2)",
      );
      assert.equal(json!.state, 'Failed');
      assert.equal(
        json!.stateReason,
        "Unreadable row: column metadata is not a JSON object ('{bad', cleared); column retry is not a JSON object ('nope', cleared) (found by schema migration 2)",
      );
      assert.deepEqual(
        (await store.getHistory(json!.id)).map((state) => [state.name, state.reason, state.error?.type]),
        [
          ['Enqueued', undefined, undefined],
          ['Failed', json!.stateReason, 'UnreadableRow'],
        ],
      );
      assert.deepEqual(leaseless!.leaseUntil, new Date(1000));
      assert.deepEqual(
        (await store.listExpiredLeases(new Date(2000), 10)).map((job) => job.id),
        [leaseless!.id],
      );
      assert.equal(sound!.state, 'Enqueued');
      assert.deepEqual(sound!.metadata, { tenant: 'acme' });
      const [created] = await store.createJobs([newJob()]);
      assert.ok(Number(created!.id) > newest, `a new id (${created!.id}) above the deleted job's (${newest})`);

      const db = new DatabaseSync(path);
      try {
        const refused = (sql: string, message: RegExp) => assert.throws(() => db.exec(sql), message);
        refused(`UPDATE jobs SET state = 'Bogus' WHERE id = ${sound!.id}`, /CHECK constraint failed: state_is_one_of_the_7_states/);
        refused(`UPDATE jobs SET lease_until = NULL WHERE id = ${leaseless!.id}`, /CHECK constraint failed: processing_has_lease_until/);
        refused(`UPDATE jobs SET run_at = 'soon' WHERE id = ${sound!.id}`, /CHECK constraint failed: run_at_is_integer_epoch_ms/);
        refused(`UPDATE jobs SET metadata = '{bad' WHERE id = ${sound!.id}`, /CHECK constraint failed: metadata_is_a_json_object/);
        refused(`UPDATE jobs SET retry = '[]' WHERE id = ${sound!.id}`, /CHECK constraint failed: retry_is_a_json_object/);
        refused(
          `INSERT INTO jobs (type, method, args, queue, priority, state, run_at, created_at, state_changed_at, history)
           VALUES ('T', '', '[]', 'default', 0, 'Processing', 0, 0, 0, '')`,
          /CHECK constraint failed: processing_has_lease_until/,
        );
      } finally {
        db.close();
      }
    }));

  it('migration 3 counts the jobs already there per queue and state, and the outcomes of their last 48 hours', () =>
    withStores(async (open) => {
      // A file at version 2, as the previous release left it, with jobs in every state.
      const path = freshPath();
      const legacy = new DatabaseSync(path);
      legacy.exec(SQLITE_MIGRATIONS[0]!);
      legacy.exec(SQLITE_MIGRATIONS[1]!);
      legacy.exec('CREATE TABLE pilotlight_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      legacy.exec('INSERT INTO pilotlight_migrations VALUES (1, 0), (2, 0)');
      const insert = legacy.prepare(
        `INSERT INTO jobs (type, method, args, queue, priority, state, run_at, created_at, state_changed_at, lease_until, history)
         VALUES ('Legacy', '', '["needle"]', ?, ?, ?, ?, 0, ?, ?, '{"name":"Enqueued","at":0}')`,
      );
      const minute = legacyMinute();
      for (const row of legacyRows(minute)) {
        insert.run(
          row.queue,
          row.priority,
          row.state,
          row.runAt,
          row.changedAt,
          row.state === 'Processing' ? row.changedAt + 30_000 : null,
        );
      }
      legacy.close();

      const store = open(path);
      assert.deepEqual(
        migrationVersions(path),
        SQLITE_MIGRATIONS.map((_, i) => i + 1),
        'migration 3 and every later one ran',
      );
      await assertLegacyCounted(store, minute);
      assert.equal((await store.listJobs({ state: 'Failed', limit: 1 })).length, 1);
      assert.equal((await store.searchJobs({ text: 'needle', state: 'Succeeded' })).jobs.length, 3);

      // From there on, the writes keep the counters.
      await store.claimJobs({ queues: ['mail'], limit: 2, serverName: 'w', now: new Date(), leaseUntil: new Date(Date.now() + 30_000) });
      assert.deepEqual((await store.queueStats())[1]!.counts, {
        Enqueued: 1,
        Scheduled: 0,
        Awaiting: 0,
        Processing: 3,
        Succeeded: 0,
        Failed: 0,
        Deleted: 0,
      });
      assert.deepEqual((await store.queueStats())[1]!.oldestEnqueuedAt, new Date(3_000));
    }));

  it('refuses a database written by a newer Pilotlight', () => {
    const path = freshPath();
    const db = new DatabaseSync(path);
    db.exec('CREATE TABLE pilotlight_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    db.prepare('INSERT INTO pilotlight_migrations (version, applied_at) VALUES (?, ?)').run(SQLITE_MIGRATIONS.length + 1, Date.now());
    db.close();
    assert.throws(
      () => createSqliteStore({ path }),
      (error: unknown) =>
        error instanceof PilotlightError &&
        error.code === ErrorCodes.SCHEMA_TOO_NEW &&
        new RegExp(`schema version ${SQLITE_MIGRATIONS.length + 1}, newer than.*upgrade Pilotlight`).test(error.message),
    );
    // The refused store is never returned, so it must not keep the file open. Linux lets us look.
    if (process.platform === 'linux') assert.deepEqual(openHandles(path), []);
  });

  it('rejects invalid options with a ValidationError naming the option and the value, before touching the file', () => {
    const path = freshPath();
    const cases: [Parameters<typeof createSqliteStore>[0], RegExp][] = [
      [{ path, synchronous: 'OFF' as 'FULL' }, /synchronous.*"OFF"/],
      [{ path, busyTimeout: -1 }, /busyTimeout.*-1/],
      [{ path, busyTimeout: 2.5 }, /busyTimeout.*2\.5/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => createSqliteStore(options),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
          assert.equal(error.code, ErrorCodes.VALIDATION);
          assert.match(error.message, message);
          return true;
        },
      );
    }
    assert.equal(existsSync(path), false);
  });

  it('accepts synchronous FULL and an in-memory database', async () => {
    for (const options of [{ path: freshPath(), synchronous: 'FULL' as const, busyTimeout: 0 }, { path: ':memory:' }]) {
      const store = createSqliteStore(options);
      try {
        const [created] = await store.createJobs([newJob()]);
        assert.equal((await store.getJob(created!.id))?.state, 'Enqueued');
      } finally {
        await store.close();
      }
    }
  });

  it('close() is idempotent and later calls fail', async () => {
    const path = freshPath();
    const store = createSqliteStore({ path });
    const events: StoreEvent[] = [];
    store.subscribe((event) => events.push(event));
    await store.close();
    await store.close();
    await Promise.all([store.close(), store.close()]);
    const closed = (error: unknown) =>
      error instanceof StoreClosedError && error.code === ErrorCodes.STORE_CLOSED && /The SQLite store .* is closed/.test(error.message);
    await assert.rejects(store.getJob('1'), closed);
    await assert.rejects(store.createJobs([newJob()]), closed, 'in a transaction too');

    // Its file watcher is gone too: another store's writes reach no one and break nothing.
    const other = createSqliteStore({ path });
    try {
      await other.createJobs([newJob()]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(events, []);
    } finally {
      await other.close();
    }
  });
});
