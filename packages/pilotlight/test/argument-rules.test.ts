import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, ValidationError } from '../src/index.ts';
import { ARGUMENT_CASES, badTextCalls, checkArgumentRules } from './support/argument-rules.ts';
import { tempStore, testClient, testWorker, waitForState } from './support/helpers.ts';

const job = defineJob('any', (_: unknown) => undefined);

async function refused(run: () => unknown, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => run(),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('arguments are plain JSON: round-tripped exactly or refused, never changed', () => {
  it(`runs the table of ${ARGUMENT_CASES.length} cases on a real worker and SQLite store`, { timeout: 60_000 }, async () => {
    assert.ok(ARGUMENT_CASES.length >= 30);
    await checkArgumentRules(tempStore());
  });

  it('refuses 10,000 levels of nesting with a ValidationError, not a stack overflow', async () => {
    const client = testClient(tempStore());
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    await refused(() => client.enqueue(job, deep), /^enqueue\(\) args\[0\]\[0\]\[0\].* is nested deeper than 100 levels/);
    let object: unknown = {};
    for (let i = 0; i < 10_000; i++) object = { next: object };
    await refused(() => client.enqueueMany(job, [1, object]), /^enqueueMany\(\) args\[0\]\.next.* is nested deeper than 100 levels/);
    assert.equal((await client.listJobs()).length, 0);
  });

  it('applies the rules to recurring jobs, and their occurrences receive the arguments unchanged', async () => {
    const store = tempStore();
    const client = testClient(store);
    await refused(
      () => client.recurring.addOrUpdate('r', '* * * * *', job, { when: new Date() }),
      /^recurring\.addOrUpdate\(\) args\[0\]\.when is a Date/,
    );
    assert.equal(await client.recurring.get('r'), undefined);
    const seen: unknown[] = [];
    const record = defineJob('record', (arg: unknown) => void seen.push(arg));
    const arg = { tags: ['a', 'b'], n: 1.25, nested: { ok: null } };
    await client.recurring.addOrUpdate('r', '0 0 1 1 *', record, arg);
    testWorker({ store, jobs: [record] }).start();
    await waitForState(client, await client.recurring.trigger('r'), 'Succeeded');
    assert.deepStrictEqual(seen, [arg]);
  });

  it('documented exceptions: -0 arrives as 0, an object without a prototype as a plain object', async () => {
    const store = tempStore();
    const client = testClient(store);
    const seen: unknown[] = [];
    const record = defineJob('record', (arg: unknown) => void seen.push(arg));
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    testWorker({ store, jobs: [record] }).start();
    await waitForState(client, await client.enqueue(record, { zero: -0, bare }), 'Succeeded');
    assert.deepStrictEqual(seen, [{ zero: 0, bare: { a: 1 } }]);
  });
});

describe('schedule times beyond the horizon', () => {
  it('refuses a delay or a date more than 100 years ahead with a ValidationError (not a RangeError)', async () => {
    const client = testClient(tempStore());
    await refused(
      () => client.schedule(job, 1, { delay: Number.MAX_SAFE_INTEGER }),
      /^schedule\(\) options\.delay must be an integer from 0 to 3155760000000 ms \(100 years\); received 9007199254740991$/,
    );
    await refused(() => client.schedule(job, 1, { delay: 3155760000001 }), /options\.delay must be an integer from 0 to/);
    await refused(
      () => client.schedule(job, 1, { at: new Date(8.64e15) }),
      /options\.at must be at most 100 years ahead .* received Date\(\+275760/,
    );
    await refused(() => client.schedule(job, 1, { at: new Date(Number.NaN) }), /options\.at must be a valid Date/);
    assert.equal((await client.listJobs()).length, 0);
    // 99 years is accepted.
    const id = await client.schedule(job, 1, { delay: 99 * 365 * 86_400_000 });
    assert.equal((await client.getJob(id))?.state, 'Scheduled');
  });
});

describe('text the stores keep: no NUL character, no lone surrogate', () => {
  for (const [what, x] of [
    ['a NUL character', '\u0000'],
    ['a lone surrogate', '\udc00'],
  ] as const) {
    it(`refuses ${what} in metadata, dedup keys, types, methods, ids, cron and time zones`, async () => {
      const client = testClient(tempStore());
      for (const [name, run, message] of badTextCalls(client, x)) {
        await refused(run, message).catch((error: Error) => assert.fail(`${name}: ${error.message}`));
      }
      assert.equal((await client.listJobs()).length, 0);
      assert.deepEqual(await client.recurring.list(), []);
    });
  }
});

describe('metadata limits', () => {
  it('refuses values over 4 KiB, metadata over 16 KiB and keys over 200 characters or empty', async () => {
    const client = testClient(tempStore());
    await refused(
      () => client.enqueue(job, 1, { metadata: { big: 'é'.repeat(2049) } }),
      /^enqueue\(\) options\.metadata\.big is 4098 bytes; the limit is 4096 \(4 KiB\)/,
    );
    const many = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'x'.repeat(4000)]));
    await refused(
      () => client.enqueue(job, 1, { metadata: many }),
      /options\.metadata is 20010 bytes \(keys and values\); the limit is 16384/,
    );
    await refused(
      () => client.enqueue(job, 1, { metadata: { ['k'.repeat(201)]: 'v' } }),
      /options\.metadata keys must be 1 to 200 characters/,
    );
    await refused(
      () => client.enqueue(job, 1, { metadata: { '': 'v' } }),
      /options\.metadata keys must be 1 to 200 characters; received ""/,
    );
    await refused(
      () => client.enqueueMany(job, [1], { metadata: [] as never }),
      /enqueueMany\(\) options\.metadata must be an object of strings/,
    );
    assert.equal((await client.listJobs()).length, 0);
    // At the limits, accepted: 4 × (2 + 4094) bytes is 16 KiB exactly.
    const at = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, 'x'.repeat(4094)]));
    const id = await client.enqueue(job, 1, { metadata: at });
    assert.deepEqual((await client.getJob(id))!.metadata, at);
    await client.enqueue(job, 1, { metadata: { ['k'.repeat(200)]: 'v' } });
  });
});

describe('cron fields', () => {
  it('accepts 5 or 6 fields and nicknames; refuses 7 (a year) and other counts', async () => {
    const client = testClient(tempStore());
    await client.recurring.addOrUpdate('five', '*/5 * * * *', job, 1);
    await client.recurring.addOrUpdate('six', '30 */5 * * * *', job, 1);
    await client.recurring.addOrUpdate('nick', '@daily', job, 1);
    await refused(
      () => client.recurring.addOrUpdate('seven', '0 0 12 * * * 2099', job, 1),
      /^recurring\.addOrUpdate\(\) cron "0 0 12 \* \* \* 2099" is not a valid cron expression: it has 7 fields; 5 \(minute hour day month weekday\) or 6 \(second first\) are accepted: a year field is not supported/,
    );
    await refused(
      () => client.recurring.addOrUpdate('four', '* * * *', job, 1),
      /cron "\* \* \* \*" is not a valid cron expression: it has 4 fields; 5/,
    );
    assert.deepEqual((await client.recurring.list()).map((r) => r.id).sort(), ['five', 'nick', 'six']);
  });
});
