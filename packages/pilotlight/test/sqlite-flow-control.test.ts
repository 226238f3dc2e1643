import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { newJob } from '../src/testing.ts';
import { SQLITE_MIGRATIONS } from '../src/storage/sqlite/migrations.ts';
import { RateLimitWakeTimer } from '../src/storage/sqlite/rate-limit-wake-timer.ts';
import { createSqliteStore, type SqliteStore } from '../src/sqlite.ts';
import type { ClaimRequest } from '../src/storage/store.ts';
import { tempDir, waitFor } from './support/helpers.ts';

const dir = tempDir();
let files = 0;
function freshPath(): string {
  return join(dir, `flow-${++files}.db`);
}

function claimRequest(serverName: string, limit: number, queues: string[] = ['default']): ClaimRequest {
  const now = new Date();
  return { queues, limit, serverName, now, leaseUntil: new Date(now.getTime() + 60_000) };
}

async function withStore<T>(path: string, body: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = createSqliteStore({ path });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

describe('SqliteStore flow control (SQLite specifics)', () => {
  it('migration 4 keeps the jobs of a version-3 file, which read without flow control, and flow control works on them from there on', async () => {
    const path = freshPath();
    const legacy = new DatabaseSync(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, 3)) legacy.exec(migration);
    legacy.exec('CREATE TABLE pilotlight_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    legacy.exec('INSERT INTO pilotlight_migrations VALUES (1, 0), (2, 0), (3, 0)');
    const insert = legacy.prepare(
      `INSERT INTO jobs (type, method, args, queue, priority, state, run_at, created_at, state_changed_at, lease_until, history)
       VALUES ('Legacy', '', '[]', 'default', ?, ?, 0, 0, 0, ?, '{"name":"Enqueued","at":0}')`,
    );
    insert.run(1, 'Enqueued', null);
    insert.run(0, 'Enqueued', null);
    insert.run(0, 'Processing', 60_000);
    legacy.exec(
      `INSERT INTO job_counts (queue, type, state, minute, n) VALUES ('default', 'Legacy', 'Enqueued', -1, 2), ('default', 'Legacy', 'Processing', -1, 1)`,
    );
    legacy.close();

    await withStore(path, async (store) => {
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        assert.deepEqual(
          (db.prepare('SELECT version FROM pilotlight_migrations ORDER BY version').all() as { version: number }[]).map(
            (row) => row.version,
          ),
          SQLITE_MIGRATIONS.map((_, i) => i + 1),
        );
      } finally {
        db.close();
      }
      const [first, second, running] = (await store.listJobs({})).reverse();
      for (const job of [first, second, running]) {
        assert.deepEqual(
          [job!.concurrency, job!.rateLimit, job!.debounceKey, job!.batchId, job!.awaitsBatch, job!.resultJson],
          [undefined, undefined, undefined, undefined, undefined, undefined],
        );
      }
      assert.deepEqual(await store.listQueueSettings(), []);

      // A legacy job claims as before; a queue limit counts the legacy job still running.
      await store.setQueueSettings('default', { concurrencyLimit: 2 });
      const claimed = await store.claimJobs(claimRequest('w', 10));
      assert.deepEqual(
        claimed.map((job) => job.id),
        [first!.id],
      );
      const [keyed, debounced] = await store.createJobs([
        newJob({ queue: 'keyed', concurrency: { key: 'tenant:1', limit: 1 } }),
        newJob({ queue: 'keyed', debounceKey: 'd' }),
      ]);
      const [replacing] = await store.createJobs([newJob({ queue: 'keyed', debounceKey: 'd' })]);
      assert.equal(replacing!.replacedId, debounced!.id);
      assert.deepEqual(
        (await store.claimJobs(claimRequest('w', 10, ['keyed']))).map((job) => job.id),
        [keyed!.id, replacing!.id],
      );
    });
  });

  it('two stores on one file share every limit: their claims, one writer at a time, never exceed a key’s limit nor a queue’s', async () => {
    const path = freshPath();
    await withStore(path, async (a) => {
      await withStore(path, async (b) => {
        await a.setQueueSettings('capped', { concurrencyLimit: 3 });
        await a.createJobs([
          ...Array.from({ length: 10 }, () => newJob({ concurrency: { key: 'tenant:1', limit: 2 } })),
          ...Array.from({ length: 10 }, () => newJob({ queue: 'capped' })),
        ]);
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).claimJobs(claimRequest(`w${i}`, 2, ['default', 'capped']))),
        );
        const claimed = claims.flat();
        assert.equal(claimed.filter((job) => job.concurrency?.key === 'tenant:1').length, 2);
        assert.equal(claimed.filter((job) => job.queue === 'capped').length, 3);
        assert.equal((await b.countJobs()).Processing, 5);
      });
    });
  });

  it('a rate-limit wake seen by another store on the same file: its workers claim the next window once it closes', async () => {
    const path = freshPath();
    await withStore(path, async (a) => {
      await withStore(path, async (b) => {
        await a.createJobs(Array.from({ length: 3 }, () => newJob({ queue: 'rl', rateLimit: { key: 'api', max: 1, per: 200 } })));
        assert.equal((await a.claimJobs(claimRequest('a', 5, ['rl']))).length, 1);
        assert.deepEqual(await b.claimJobs(claimRequest('b', 5, ['rl'])), [], 'the window opened by store a is full for store b too');
        const woken: string[] = [];
        b.subscribe((event) => {
          if (event.type === 'wake' && event.queue === 'rl') woken.push(event.queue);
        });
        await waitFor(() => woken.length > 0, 'a wake for queue rl when the window closes', 5_000);
        assert.equal((await b.claimJobs(claimRequest('b', 5, ['rl']))).length, 1);
      });
    });
  });
});

describe('RateLimitWakeTimer', () => {
  it('wakes each queue once, at the earliest end armed for it, and nothing after clear()', async () => {
    const woken: { queue: string; at: number }[] = [];
    const timer = new RateLimitWakeTimer((queue) => woken.push({ queue, at: performance.now() }));
    const start = performance.now();
    timer.arm('slow', 150);
    timer.arm('fast', 30);
    timer.arm('fast', 400); // later than the armed one: coalesced into it
    timer.arm('slow', 80); // sooner: replaces it
    await waitFor(() => woken.length === 2, 'wakes of both queues', 5_000);
    assert.deepEqual(
      woken.map((wake) => wake.queue),
      ['fast', 'slow'],
    );
    assert.ok(woken[0]!.at - start >= 30, `fast woken after ${woken[0]!.at - start} ms`);
    assert.ok(woken[1]!.at - start >= 80, `slow woken after ${woken[1]!.at - start} ms`);

    timer.arm('cleared', 20);
    timer.clear();
    await new Promise((resolve) => setTimeout(resolve, 450));
    assert.equal(woken.length, 2, 'no wake after clear(), nor a second one for a coalesced arm');
  });
});
