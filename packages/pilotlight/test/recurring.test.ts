import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defineJob, ValidationError, type MisfirePolicy } from '../src/index.ts';
import { CronSchedule, decideMisfire } from '../src/recurring/schedule.ts';
import { createSqliteStore } from '../src/sqlite.ts';
import { tempDir, tempStore, testClient, testWorker, waitFor } from './support/helpers.ts';

const tick = defineJob('tick', (_: string) => undefined);

describe('recurring jobs', () => {
  it('fires every occurrence exactly once with two workers on one database', async () => {
    const path = join(tempDir(), 'shared.db');
    const stores = [createSqliteStore({ path }), createSqliteStore({ path })];
    const client = testClient(stores[0]!);
    await client.recurring.addOrUpdate('every-second', '* * * * * *', tick, 'x');
    const workers = stores.map((store) => testWorker({ store, jobs: [tick], maintenanceInterval: 10 }));
    await Promise.all(workers.map((worker) => worker.start()));
    await new Promise((resolve) => setTimeout(resolve, 3_300));
    await Promise.all(workers.map((worker) => worker.stop()));
    const jobs = await client.listJobs({ type: 'tick', limit: 1000 });
    const reasons = await Promise.all(jobs.map(async (job) => (await client.getHistory(job.id))[0]!.reason!));
    assert.ok(jobs.length >= 2, `fired ${jobs.length} times in 3.3 s`);
    assert.equal(new Set(reasons).size, reasons.length, `an occurrence fired twice: ${reasons.join(', ')}`);
    assert.ok(jobs.every((job) => job.recurringId === 'every-second'));
    const recurring = await client.recurring.get('every-second');
    assert.equal(recurring!.lastJobId, jobs[0]!.id);
    for (const store of stores) await store.close();
  });

  it('applies the misfire policy to occurrences missed during downtime', async () => {
    const expected: Record<MisfirePolicy, number> = { 'run-all': 3, 'run-once': 1, skip: 0 };
    for (const misfire of Object.keys(expected) as MisfirePolicy[]) {
      const store = tempStore();
      const client = testClient(store);
      await client.recurring.addOrUpdate('new-year', '0 0 1 1 *', tick, misfire, { misfire });
      // The workers were down since before 1 January 2024: 2024, 2025 and 2026 were missed.
      const definition = (await client.recurring.get('new-year'))!;
      await store.upsertRecurring({ ...definition, nextRunAt: new Date('2024-01-01T00:00:00Z') });
      const worker = testWorker({ store, jobs: [tick] });
      await worker.start();
      await waitFor(async () => (await client.recurring.get('new-year'))!.nextRunAt.getUTCFullYear() > 2026, 'the occurrence to fire');
      await worker.stop();
      const jobs = await client.listJobs({ type: 'tick' });
      assert.equal(jobs.length, expected[misfire], `misfire ${misfire}`);
    }
  });

  it('decides misfires from the schedule, the policy and the grace period', () => {
    const everyMinute = new CronSchedule('* * * * *', 'UTC');
    const from = new Date('2026-01-01T10:00:00Z');
    const now = new Date('2026-01-01T10:04:30Z');
    const all = decideMisfire(everyMinute, 'run-all', from, now);
    assert.deepEqual(
      all.fire.map((d) => d.toISOString().slice(11, 16)),
      ['10:00', '10:01', '10:02', '10:03', '10:04'],
    );
    assert.equal(all.nextRunAt.toISOString(), '2026-01-01T10:05:00.000Z');
    assert.deepEqual(
      decideMisfire(everyMinute, 'run-once', from, now).fire.map((d) => d.toISOString()),
      ['2026-01-01T10:04:00.000Z'],
    );
    assert.equal(decideMisfire(everyMinute, 'skip', from, now).fire.length, 1, 'the 30 s old occurrence is within grace');
    assert.equal(decideMisfire(everyMinute, 'skip', from, now, 10_000).fire.length, 0);
    assert.equal(decideMisfire(everyMinute, 'skip', from, now, 10_000).dropped, 5);
    assert.equal(decideMisfire(everyMinute, 'run-all', from, now, 60_000, 2).fire.length, 2, 'bounded by maxMisfires');
  });

  it('reads cron expressions in their time zone', async () => {
    const store = tempStore();
    const client = testClient(store);
    await client.recurring.addOrUpdate('tokyo-morning', '0 9 * * *', tick, 't', { timeZone: 'Asia/Tokyo' });
    const next = (await client.recurring.get('tokyo-morning'))!.nextRunAt;
    assert.equal(next.getUTCHours(), 0, '09:00 in Tokyo is 00:00 UTC');
    assert.ok(next.getTime() > Date.now());
  });

  it('keeps the pending occurrence when the same schedule is saved again, and moves it when the schedule changes', async () => {
    const store = tempStore();
    const client = testClient(store);
    await client.recurring.addOrUpdate('report', '0 6 * * *', tick, 'v1');
    const pending = new Date('2030-05-05T06:00:00Z');
    await store.upsertRecurring({ ...(await client.recurring.get('report'))!, nextRunAt: pending });
    await client.recurring.addOrUpdate('report', '0 6 * * *', tick, 'v2', { queue: 'reports' });
    const same = (await client.recurring.get('report'))!;
    assert.equal(same.nextRunAt.toISOString(), pending.toISOString());
    assert.equal(same.argsJson, '["v2"]');
    assert.equal(same.queue, 'reports');
    await client.recurring.addOrUpdate('report', '0 7 * * *', tick, 'v3');
    assert.notEqual((await client.recurring.get('report'))!.nextRunAt.toISOString(), pending.toISOString());
  });

  it('triggers an occurrence by hand and removes a recurring job', async () => {
    const store = tempStore();
    const client = testClient(store);
    await client.recurring.addOrUpdate('cleanup', '0 3 * * *', tick, 'now');
    const id = await client.recurring.trigger('cleanup');
    const job = (await client.getJob(id))!;
    assert.equal(job.state, 'Enqueued');
    assert.equal(job.recurringId, 'cleanup');
    assert.deepEqual(job.args, ['now']);
    assert.equal(await client.recurring.remove('cleanup'), true);
    assert.equal(await client.recurring.remove('cleanup'), false);
    await assert.rejects(client.recurring.trigger('cleanup'), /Recurring job 'cleanup' does not exist/);
  });

  it('rejects a bad cron expression, time zone or misfire policy, writing nothing', async () => {
    const store = tempStore();
    const client = testClient(store);
    const cases: [Promise<void>, RegExp][] = [
      [client.recurring.addOrUpdate('a', 'every day', tick, 'x'), /cron "every day" is not a valid cron expression/],
      [client.recurring.addOrUpdate('b', '', tick, 'x'), /cron must be a cron expression/],
      [
        client.recurring.addOrUpdate('c', '* * * * *', tick, 'x', { timeZone: 'Mars/Olympus' }),
        /timeZone must be an IANA time zone .* received "Mars\/Olympus"/,
      ],
      [
        client.recurring.addOrUpdate('d', '* * * * *', tick, 'x', { misfire: 'sometimes' as MisfirePolicy }),
        /misfire must be one of run-once, run-all, skip; received "sometimes"/,
      ],
    ];
    for (const [promise, message] of cases) {
      await assert.rejects(promise, (error: unknown) => error instanceof ValidationError && message.test(error.message));
    }
    assert.deepEqual(await client.recurring.list(), []);
  });
});
