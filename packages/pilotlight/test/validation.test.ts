import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, createWorker, defineJob, ValidationError } from '../src/index.ts';
import { createSqliteStore } from '../src/sqlite.ts';
import { tempStore, testClient } from './support/helpers.ts';

const job = defineJob('any', (_: unknown) => undefined);

/** Asserts that `run` throws (or rejects with) a ValidationError whose message matches. */
async function rejects(run: () => unknown, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => run(),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('bad input is rejected with a clear error and nothing is written', () => {
  it('rejects arguments that JSON would lose or change', async () => {
    const store = tempStore();
    const client = testClient(store);
    class Point {
      x = 1;
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await rejects(() => client.enqueue(job, { callback: () => 1 }), /^enqueue\(\) args\[0\]\.callback is a function/);
    await rejects(() => client.enqueue(job, { amount: 10n }), /args\[0\]\.amount is a BigInt: pass it as a string/);
    await rejects(() => client.enqueue(job, cyclic), /args\[0\]\.self is a circular reference/);
    await rejects(() => client.enqueue(job, [1, Number.NaN]), /args\[0\]\[1\] is NaN/);
    await rejects(() => client.enqueue(job, new Point()), /args\[0\] is a Point instance/);
    await rejects(() => client.enqueue(job, { s: Symbol('x') }), /args\[0\]\.s is a symbol/);
    await rejects(() => client.enqueue(job, 'x'.repeat(1024 * 1024 + 1)), /payload is \d+ bytes once serialized; the limit is 1048576/);
    await rejects(() => client.enqueueMany(job, [1, () => 2]), /^enqueueMany\(\) args\[0\] is a function/);
    // What JSON would change is refused too (every case: argument-rules.test.ts).
    await rejects(() => client.enqueue(job, { at: new Date(0) }), /^enqueue\(\) args\[0\]\.at is a Date: pass date\.toISOString\(\)/);
    assert.deepEqual(await client.listJobs(), []);
    // Plain JSON is stored as JSON.stringify writes it.
    await client.enqueue(job, { at: '1970-01-01T00:00:00.000Z', nested: [{ a: null }] });
    assert.deepEqual((await client.listJobs())[0]!.argsJson, '[{"at":"1970-01-01T00:00:00.000Z","nested":[{"a":null}]}]');
  });

  it('rejects empty, oversized or malformed queue names and bad priorities', async () => {
    const client = testClient(tempStore());
    await rejects(() => client.enqueue(job, 1, { queue: '' }), /enqueue\(\) options\.queue must be a non-empty string .* received ""/);
    await rejects(() => client.enqueue(job, 1, { queue: 'q'.repeat(101) }), /at most 100 .* received "q{57}\.\.\."/);
    await rejects(() => client.enqueue(job, 1, { queue: 'has space' }), /received "has space"/);
    await rejects(
      () => client.enqueue(job, 1, { priority: 1.5 }),
      /options\.priority must be an integer between -1000000 and 1000000; received 1\.5/,
    );
    await rejects(
      () => client.enqueue(job, 1, { retry: { attempts: 0 } }),
      /options\.retry\.attempts must be an integer between 1 and 1000; received 0/,
    );
    await rejects(
      () => client.enqueue(job, 1, { retry: { backoff: [-1] } }),
      /options\.retry\.backoff\[0\] must be an integer >= 0; received -1/,
    );
    await rejects(() => client.enqueue(job, 1, { dedupKey: '' }), /options\.dedupKey must be a non-empty string/);
    await rejects(
      () => client.enqueue(job, 1, { metadata: { n: 1 as unknown as string } }),
      /options\.metadata\.n must be a string; received 1/,
    );
  });

  it('rejects bad schedule times: negative delays, invalid dates, both or neither', async () => {
    const client = testClient(tempStore());
    await rejects(
      () => client.schedule(job, 1, { delay: -5 }),
      /schedule\(\) options\.delay must be an integer from 0 to 3155760000000 ms \(100 years\); received -5/,
    );
    await rejects(
      () => client.schedule(job, 1, { at: new Date('nope') }),
      /options\.at must be a valid Date; received Date\(Invalid Date\)/,
    );
    await rejects(() => client.schedule(job, 1, {}), /needs exactly one of options\.at .* or options\.delay/);
    await rejects(() => client.schedule(job, 1, { at: new Date(), delay: 1 }), /needs exactly one of/);
  });

  it('rejects calls that are not jobs, and class methods that do not exist', async () => {
    const client = testClient(tempStore());
    class Service {
      run() {}
    }
    await rejects(
      () => client.enqueue({} as never, 1),
      /enqueue\(\) expects a job definition \(defineJob\) or a job class; received an object/,
    );
    await rejects(
      () => client.enqueue(Service, 'missing' as never, []),
      /enqueue\(\) method must name a method of Service; received "missing"/,
    );
    await rejects(() => client.enqueue(Service, 'run', 'x' as never), /arguments of Service\.run must be an array; received "x"/);
    assert.throws(() => defineJob('', () => 1), /defineJob\(\) type must be a non-empty string/);
  });

  it('rejects bad worker, client and store options, naming the option and the value', () => {
    const store = tempStore();
    const cases: [() => unknown, RegExp][] = [
      [() => createWorker({ store, jobs: [], concurrency: 0 }), /options\.concurrency must be an integer between 1 and 10000; received 0/],
      [() => createWorker({ store, jobs: [], queues: [] }), /options\.queues must be a non-empty array/],
      [() => createWorker({ store, jobs: [], queues: ['ok', ''] }), /options\.queues\[1\] must be a non-empty string/],
      [
        () => createWorker({ store, jobs: [], leaseDuration: 5_000, heartbeatInterval: 5_000 }),
        /heartbeatInterval \(5000\) must be shorter than leaseDuration \(5000\)/,
      ],
      [() => createWorker({ store, jobs: [], pollInterval: -1 }), /options\.pollInterval must be an integer >= 10; received -1/],
      [() => createWorker({ store, jobs: [{} as never] }), /options\.jobs must hold job definitions or classes; received an object/],
      [() => createWorker({ store, jobs: [job, defineJob('any', () => 2)] }), /two jobs of type 'any'/],
      [
        () => createWorker({ store, jobs: [], retention: { succeeded: -1 } }),
        /options\.retention\.succeeded must be an integer >= 0; received -1/,
      ],
      [() => createWorker({ store: undefined as never, jobs: [] }), /createWorker\(\) options\.store must be a store; received undefined/],
      [() => createClient({ store: undefined as never }), /createClient\(\) options\.store must be a store; received undefined/],
      [
        () => createWorker({ store, jobs: [], metrics: { enabled: 'yes' as never } }),
        /^createWorker\(\) options\.metrics\.enabled must be a boolean; received "yes"$/,
      ],
      [
        () => createWorker({ store, jobs: [], metrics: null as never }),
        /^createWorker\(\) options\.metrics must be an object such as \{ enabled: false \}; received null$/,
      ],
      [
        () => createClient({ store, metrics: { meterProvider: {} as never } }),
        /^createClient\(\) options\.metrics\.meterProvider must be a MeterProvider \(with getMeter\(\)\); received an object$/,
      ],
      [
        () => createSqliteStore({ path: ':memory:', synchronous: 'OFF' as never }),
        /synchronous must be 'NORMAL' or 'FULL'; received "OFF"/,
      ],
    ];
    for (const [run, message] of cases)
      assert.throws(run, (error: unknown) => error instanceof ValidationError && message.test(error.message));
  });

  it('rejects bad flow-control options (concurrency, rateLimit, debounce), naming the option, the value and the range', async () => {
    const client = testClient(tempStore());
    await rejects(
      () => client.enqueue(job, 1, { concurrency: { key: '', limit: 1 } }),
      /^enqueue\(\) options\.concurrency\.key must be a non-empty string of at most 200 characters .*; received ""$/,
    );
    await rejects(
      () => client.enqueue(job, 1, { concurrency: { key: 'k'.repeat(201), limit: 1 } }),
      /options\.concurrency\.key must be a non-empty string of at most 200/,
    );
    await rejects(
      () => client.enqueue(job, 1, { concurrency: { key: 'a\u0000b', limit: 1 } }),
      /options\.concurrency\.key contains a NUL character/,
    );
    await rejects(
      () => client.enqueue(job, 1, { concurrency: { key: 'k', limit: 0 } }),
      /^enqueue\(\) options\.concurrency\.limit must be an integer from 1 to 10000 \(jobs with the key running at once\); received 0$/,
    );
    await rejects(
      () => client.enqueue(job, 1, { concurrency: { key: 'k', limit: 1.5 } }),
      /concurrency\.limit must be an integer from 1 to 10000 .*received 1\.5/,
    );
    await rejects(
      () => client.enqueue(job, 1, { concurrency: 'k' as never }),
      /^enqueue\(\) options\.concurrency must be an object \{ key, limit \}; received "k"$/,
    );
    await rejects(
      () => client.enqueue(job, 1, { rateLimit: { max: 0, per: 1000 } }),
      /^enqueue\(\) options\.rateLimit\.max must be an integer from 1 to 1000000 \(starts per window\); received 0$/,
    );
    await rejects(
      () => client.enqueue(job, 1, { rateLimit: { max: 1, per: 86_400_001 } }),
      /options\.rateLimit\.per must be an integer from 1 to 86400000 \(the window in ms, at most a day/,
    );
    await rejects(
      () => client.enqueue(job, 1, { rateLimit: { key: 7 as never, max: 1, per: 10 } }),
      /options\.rateLimit\.key must be a non-empty string .*received 7/,
    );
    await rejects(
      () => client.enqueue(job, 1, { debounce: { key: 'k', delay: -1 } }),
      /^enqueue\(\) options\.debounce\.delay must be an integer from 0 to \d+ \(ms to wait after the last enqueue \(0: at once\)\); received -1$/,
    );
    await rejects(
      () => client.enqueue(job, 1, { debounce: { key: 'k', delay: 0 }, dedupKey: 'd' }),
      /^enqueue\(\) options\.dedupKey and debounce are exclusive: dedupKey keeps the first job \("d"\), debounce keeps the last \("k"\); give one of them$/,
    );
    await rejects(
      () => client.schedule(job, 1, { delay: 10, debounce: { key: 'k', delay: 0 } }),
      /^schedule\(\) cannot debounce \(debounce\.key "k"\): debounce sets the due time .*pass debounce: null/,
    );
    await rejects(() => client.enqueueMany(job, [1, 2], { debounce: { key: 'k', delay: 0 } }), /^enqueueMany\(\) does not take a debounce/);
    // A definition's defaults: checked at defineJob() (all but a key function), its key functions at each creation.
    assert.throws(
      () => defineJob('bad.limit', () => 1, { concurrency: { key: () => 'k', limit: 0 } }),
      /^ValidationError: defineJob\('bad\.limit'\) options\.concurrency\.limit must be an integer from 1 to 10000/,
    );
    const keyed = defineJob('keyed', (_: { tenant?: string }) => 1, { concurrency: { key: (args) => args.tenant!, limit: 1 } });
    await rejects(
      () => client.enqueue(keyed, {}),
      /^enqueue\(\) options\.concurrency\.key|^defineJob\('keyed'\) options\.concurrency\.key must be a non-empty string .*received undefined$/,
    );
    const throwing = defineJob('throwing.key', (_: number) => 1, {
      rateLimit: {
        key: () => {
          throw new Error('no tenant');
        },
        max: 1,
        per: 10,
      },
    });
    await rejects(
      () => client.enqueue(throwing, 1),
      /^defineJob\('throwing\.key'\) options\.rateLimit\.key threw: no tenant; fix the key function$/,
    );
    class Throttled {
      static jobConcurrency = { key: 'k', limit: 20_000 };
      run() {}
    }
    await rejects(
      () => client.enqueue(Throttled, 'run', []),
      /^Throttled\.jobConcurrency\.limit must be an integer from 1 to 10000 .*received 20000$/,
    );
    // Queue settings.
    await rejects(() => client.queues.pause(''), /^queues\.pause\(\) queue must be a non-empty string/);
    await rejects(
      () => client.queues.setConcurrencyLimit('q', 0),
      /^queues\.setConcurrencyLimit\(\) limit must be an integer from 1 to 10000 \(jobs of the queue running at once, or null for no limit\); received 0$/,
    );
    await rejects(
      () => client.queues.setRateLimit('q', { max: 5, per: 0 }),
      /^queues\.setRateLimit\(\) limit\.per must be an integer from 1 to 86400000/,
    );
    // Batches.
    await rejects(() => client.batch([]), /^batch\(\) expects a non-empty array of \{ job, args, options\? \}/);
    await rejects(
      () => client.batch([{ job, args: 1, options: { dedupKey: 'x' } as never }]),
      /^batch\(\) jobs\[0\]\.options\.dedupKey is not allowed/,
    );
    await rejects(
      () => client.batch([{ job, args: 1, options: { debounce: { key: 'k', delay: 0 } } as never }]),
      /^batch\(\) cannot debounce \(debounce\.key "k"\): a replaced member would leave its batch/,
    );
    await rejects(
      () => client.continueWhenAll([], job, 1),
      /^continueWhenAll\(\) expects a batch id or a non-empty array of job ids; received an array$/,
    );
    await rejects(() => client.continueWhenAll('no-such-batch', job, 1), /^continueWhenAll\(\) batch "no-such-batch" has no jobs/);
    await rejects(() => client.continueWhenAll(['a', 'a'], job, 1), /^continueWhenAll\(\) ids holds the same job id twice$/);
    await rejects(
      () => client.continueWhenAll(['a'], job, 1, { when: 'always' as never }),
      /^continueWhenAll\(\) options\.when must be 'succeeded' or 'finished'; received "always"$/,
    );
    assert.deepEqual(await client.listJobs(), []);
  });

  it('rejects options.transaction on the SQLite store, writing nothing', async () => {
    const client = testClient(tempStore());
    await assert.rejects(
      client.enqueue(job, 1, { transaction: {} as never }),
      (error: unknown) =>
        error instanceof ValidationError && /options\.transaction is not supported by the SQLite store/.test(error.message),
    );
    assert.equal((await client.countJobs()).Enqueued, 0);
  });
});
