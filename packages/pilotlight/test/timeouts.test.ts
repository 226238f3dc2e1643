import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  createClient,
  createWorker,
  defineJob,
  ErrorCodes,
  JobCancelledError,
  JobTimeoutError,
  silentLogger,
  ValidationError,
  type JobContext,
  type Logger,
  type PerformedContext,
} from '../src/index.ts';
import { DEFAULTS } from '../src/config/defaults.ts';
import { installOtel } from './support/otel.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from './support/helpers.ts';

const otel = installOtel();

/** A logger that keeps what it is told. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const keep =
    (level: string) =>
    (message: string): void =>
      void lines.push({ level, message });
  const logger: Logger = { debug: () => undefined, info: keep('info'), warn: keep('warn'), error: keep('error') };
  return { logger, lines };
}

/** A handler that ignores its signal and settles only when `release()` is called. */
function stubbornHandler() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const signals: AbortSignal[] = [];
  return {
    run: async (_: void, ctx: JobContext) => {
      signals.push(ctx.signal);
      await released;
    },
    signals,
    release: () => release(),
  };
}

describe('job timeouts', () => {
  it('fails a hung attempt with JobTimeoutError, retries it under the retry policy, records and traces each failure', async () => {
    const store = tempStore();
    const client = testClient(store);
    const reasons: unknown[] = [];
    // Hangs until its signal aborts (then rejects with an AbortError, as timers/promises does).
    const hang = defineJob('timeouts.hang', async (_: void, ctx) => {
      ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
      await sleep(1_000_000, undefined, { signal: ctx.signal });
    });
    const worker = testWorker({ store, jobs: [hang] });
    await worker.start();
    const id = await client.enqueue(hang, undefined, { timeout: 100, retry: { attempts: 2, backoff: 10 } });
    const started = Date.now();
    const failed = await waitForState(client, id, 'Failed', 5_000);
    assert.ok(Date.now() - started >= 200, 'two attempts of 100 ms');
    assert.equal(failed.attempt, 2);
    assert.equal(failed.retryCount, 1);
    assert.match(
      failed.stateReason!,
      /^Failed after 2 attempt\(s\), no retry left: Job \S+ \(timeouts\.hang\) timed out: attempt 2 ran longer than its timeout of 100 ms/,
    );
    assert.equal(reasons.length, 2);
    for (const reason of reasons) {
      assert.ok(reason instanceof JobTimeoutError);
      assert.equal(reason.code, ErrorCodes.JOB_TIMEOUT);
      assert.equal(reason.timeout, 100);
      assert.equal(reason.jobId, id);
    }
    const history = await client.getHistory(id);
    assert.deepEqual(
      history.map((state) => state.name),
      ['Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Failed'],
    );
    for (const entry of [history[2]!, history[5]!]) {
      assert.equal(entry.error?.type, 'JobTimeoutError', 'the timeout, not the AbortError the handler threw');
      assert.match(entry.error!.message, /ran longer than its timeout of 100 ms \(the options.timeout it was enqueued with\)/);
    }
    const spans = await waitFor(
      () => (otel.named('process timeouts.hang').length === 2 ? otel.named('process timeouts.hang') : undefined),
      'two attempt spans',
    );
    for (const span of spans) {
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.attributes['error.type'], 'JobTimeoutError', 'a failure, not a cancellation');
      assert.equal(span.attributes['pilotlight.job.cancelled'], undefined);
    }
    assert.deepEqual(worker.stats, { running: 0, zombies: 0 });
  });

  it('records the timeout at once for a handler that ignores its signal, which keeps its slot as a zombie until it settles', async () => {
    const store = tempStore();
    const client = testClient(store);
    const { logger, lines } = recordingLogger();
    const stubborn = stubbornHandler();
    const ignoring = defineJob('timeouts.ignoring', stubborn.run, { timeout: 100, retry: { attempts: 1 } });
    const quick = defineJob('timeouts.quick', () => 'done');
    const worker = testWorker({ store, jobs: [ignoring, quick], concurrency: 2, logger });
    await worker.start();
    const id = await client.enqueue(ignoring, undefined);
    const failed = await waitForState(client, id, 'Failed', 2_000);
    assert.equal(failed.stateReason?.includes('timed out'), true);
    assert.ok(stubborn.signals[0]!.aborted, 'its signal fired');
    assert.deepEqual(worker.stats, { running: 1, zombies: 1 }, 'the handler still runs: its slot is taken');
    // The other slot keeps working while the zombie runs.
    const other = await client.enqueue(quick, undefined);
    await waitForState(client, other, 'Succeeded');
    // Reported once, at a heartbeat after the grace, naming the job and how long it has overrun.
    await waitFor(() => lines.some((line) => line.level === 'warn'), 'the zombie warning', DEFAULTS.worker.zombieGrace + 2_000);
    await sleep(200); // more heartbeats: no second warning
    const warnings = lines.filter((line) => line.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.match(
      warnings[0]!.message,
      new RegExp(
        `job ${id} \\(timeouts\\.ignoring, attempt 1\\) timed out after 100 ms .*ignores its abort signal and still runs \\d+ ms later`,
      ),
    );
    stubborn.release();
    await waitFor(() => worker.stats.zombies === 0, 'the zombie to settle');
    assert.deepEqual(worker.stats, { running: 0, zombies: 0 });
    assert.ok(lines.some((line) => line.level === 'info' && line.message.includes(`job ${id}`) && /slot is free again/.test(line.message)));
    assert.equal((await client.getJob(id))!.state, 'Failed', 'the late settle records nothing');
  });

  it('with concurrency 1, a zombie holds the only slot: the next job waits unclaimed, and runs once the zombie settles', async () => {
    const store = tempStore();
    const client = testClient(store);
    const stubborn = stubbornHandler();
    const ignoring = defineJob('timeouts.ignoring', stubborn.run, { timeout: 50, retry: { attempts: 1 } });
    const quick = defineJob('timeouts.quick', () => 'done');
    const worker = testWorker({ store, jobs: [ignoring, quick], concurrency: 1 });
    await worker.start();
    const id = await client.enqueue(ignoring, undefined);
    await waitForState(client, id, 'Failed');
    const next = await client.enqueue(quick, undefined);
    await sleep(200);
    assert.equal((await client.getJob(next))!.state, 'Enqueued', 'not claimed and held behind the zombie');
    assert.deepEqual(worker.stats, { running: 1, zombies: 1 });
    stubborn.release();
    await waitForState(client, next, 'Succeeded');
    assert.deepEqual(worker.stats, { running: 0, zombies: 0 });
  });

  it('ends the attempt of a hung job deleted while running: it stays Deleted, is a zombie until it settles, and the worker runs other jobs', async () => {
    const store = tempStore();
    const client = testClient(store);
    const stubborn = stubbornHandler();
    const hung = defineJob('timeouts.hung', stubborn.run);
    const quick = defineJob('timeouts.quick', () => 'done');
    const performed: PerformedContext[] = [];
    const worker = testWorker({
      store,
      jobs: [hung, quick],
      concurrency: 2,
      filters: [{ onPerformed: (ctx) => void performed.push(ctx) }],
    });
    await worker.start();
    const id = await client.enqueue(hung, undefined);
    await waitForState(client, id, 'Processing');
    await client.delete(id, 'no longer wanted');
    await waitFor(() => performed.length === 1, 'the attempt to end');
    assert.equal(performed[0]!.cancelled, true);
    assert.equal(performed[0]!.finalState, undefined, 'nothing recorded: the job is Deleted');
    assert.equal((stubborn.signals[0]!.reason as JobCancelledError).reason, 'deleted');
    assert.deepEqual(worker.stats, { running: 1, zombies: 1 });
    const others = await Promise.all([1, 2, 3].map(() => client.enqueue(quick, undefined)));
    for (const other of others) await waitForState(client, other, 'Succeeded');
    stubborn.release();
    await waitFor(() => worker.stats.running === 0, 'the slot to free');
    assert.deepEqual(worker.stats, { running: 0, zombies: 0 });
    const job = await client.getJob(id);
    assert.equal(job!.state, 'Deleted');
    assert.equal(job!.stateReason, 'no longer wanted');
  });

  it('takes the most specific timeout: the enqueue call, then the definition (or job class), then the worker; null is none', async () => {
    const store = tempStore();
    const client = testClient(store);
    const timeouts = new Map<string, number | undefined>();
    const honour = (name: string) => async (_: void, ctx: JobContext) => {
      try {
        await sleep(400, undefined, { signal: ctx.signal });
        timeouts.set(name, undefined);
      } catch {
        timeouts.set(name, (ctx.signal.reason as JobTimeoutError).timeout);
      }
    };
    const withOwn = defineJob('timeouts.def', async (label: string, ctx) => honour(label)(undefined, ctx), { timeout: 100 });
    const withoutOwn = defineJob('timeouts.plain', async (label: string, ctx) => honour(label)(undefined, ctx));
    class Reports {
      static jobTimeout = 120;
      async build(ctx: JobContext) {
        await honour('class')(undefined, ctx);
      }
    }
    const worker = testWorker({ store, jobs: [withOwn, withoutOwn, Reports], timeout: 150, concurrency: 10 });
    await worker.start();
    const ids = [
      await client.enqueue(withOwn, 'definition'),
      await client.enqueue(withOwn, 'call', { timeout: 50 }),
      await client.enqueue(withOwn, 'call-null', { timeout: null }),
      await client.enqueue(withoutOwn, 'worker'),
      await client.enqueue(Reports, 'build', []),
    ];
    for (const id of ids)
      await waitFor(async () => ['Succeeded', 'Failed', 'Scheduled'].includes((await client.getJob(id))!.state), `job ${id} to end`);
    assert.deepEqual(Object.fromEntries(timeouts), { definition: 100, call: 50, 'call-null': undefined, worker: 150, class: 120 });
    assert.equal((await client.getJob(ids[2]!))!.state, 'Succeeded', 'no timeout at all');
    assert.deepEqual((await client.getJob(ids[1]!))!.retry, { timeout: 50 }, 'the per-call timeout is stored with the job');
    assert.deepEqual((await client.getJob(ids[0]!))!.retry, {}, "the definition's is resolved by the worker, not stored");
    const classJob = await client.getJob(ids[4]!);
    assert.match(classJob!.stateReason!, /Reports\.jobTimeout/);
    // A recurring job's occurrences carry the timeout it was added with.
    await client.recurring.addOrUpdate('timeouts.recurring', '0 0 1 1 *', withOwn, 'recurring', { timeout: 60 });
    assert.deepEqual((await client.recurring.get('timeouts.recurring'))!.retry, { timeout: 60 });
    const occurrence = await client.recurring.trigger('timeouts.recurring');
    await waitFor(() => timeouts.has('recurring'), 'the occurrence to time out');
    assert.equal(timeouts.get('recurring'), 60);
    assert.deepEqual((await client.getJob(occurrence))!.retry, { timeout: 60 });
  });

  it('validates timeout where it is given, naming the option', async () => {
    const store = tempStore();
    const client = testClient(store);
    const job = defineJob('timeouts.valid', () => undefined);
    for (const bad of [0, -1, 1.5, '100', Number.NaN, 2 ** 31, {}]) {
      assert.throws(
        () => defineJob('timeouts.bad', () => undefined, { timeout: bad as number }),
        (error: unknown) =>
          error instanceof ValidationError &&
          /^defineJob\('timeouts\.bad'\) options\.timeout must be an integer number of ms between 1 and 2147483647/.test(error.message),
      );
      await assert.rejects(
        client.enqueue(job, undefined, { timeout: bad as number }),
        /^ValidationError: enqueue\(\) options\.timeout must be an integer/,
      );
      await assert.rejects(
        client.schedule(job, undefined, { delay: 10, timeout: bad as number }),
        /schedule\(\) options\.timeout must be an integer/,
      );
      assert.throws(
        () => createWorker({ store, jobs: [job], timeout: bad as number }),
        /createWorker\(\) options\.timeout must be an integer .*; received/,
      );
    }
    class Bad {
      static jobTimeout = -5;
      run() {}
    }
    assert.throws(
      () => createWorker({ store, jobs: [Bad] }),
      /createWorker\(\) options\.jobs: Bad\.jobTimeout must be an integer .*received -5/,
    );
    // null and the bounds are accepted.
    defineJob('timeouts.none', () => undefined, { timeout: null });
    createWorker({ store, jobs: [job], timeout: null, logger: silentLogger });
    createWorker({ store, jobs: [job], timeout: 2 ** 31 - 1, logger: silentLogger });
    const id = await client.enqueue(job, undefined, { timeout: 1 });
    assert.deepEqual((await client.getJob(id))!.retry, { timeout: 1 });
    // A timeout slipped into retry is not an option: it is not stored.
    const sneaky = await client.enqueue(job, undefined, { retry: { attempts: 2, timeout: 5 } as never });
    assert.deepEqual((await client.getJob(sneaky))!.retry, { attempts: 2 });
    assert.equal(createClient({ store, logger: silentLogger }) !== undefined, true);
  });
});

describe('shutdown hand-backs', () => {
  it(`counts the attempt of a job that hangs until every shutdown after ${DEFAULTS.worker.maxShutdownHandBacks} hand-backs, so it ends Failed`, async () => {
    const store = tempStore();
    const client = testClient(store);
    // Runs until its signal aborts, whatever the reason.
    const hangs = defineJob('timeouts.hangs-until-shutdown', async (_: void, ctx) => {
      await sleep(1_000_000, undefined, { signal: ctx.signal });
    });
    const id = await client.enqueue(hangs, undefined, { retry: { attempts: 2, backoff: 0 } });
    const max = DEFAULTS.worker.maxShutdownHandBacks;
    const attempts: number[] = [];
    for (let restart = 1; restart <= 2 * (max + 1); restart++) {
      const worker = testWorker({ store, jobs: [hangs], shutdownTimeout: 20 });
      await worker.start();
      const running = await waitForState(client, id, 'Processing');
      attempts.push(running.attempt);
      await worker.stop();
    }
    // Attempt 1 is handed back `max` times, then counts (a retry); so does attempt 2, then no attempt is left.
    assert.deepEqual(attempts, [...Array(max + 1).fill(1), ...Array(max + 1).fill(2)]);
    const job = await client.getJob(id);
    assert.equal(job!.state, 'Failed');
    assert.equal(job!.attempt, 2);
    assert.match(
      job!.stateReason!,
      new RegExp(
        `^Failed after 2 attempt\\(s\\), no retry left: Worker \\S+ stopped during attempt 2: shutdowns interrupted attempt 2 ${max + 1} times`,
      ),
    );
    assert.equal(job!.stateReason!.includes(`after ${max} hand-backs an interrupted attempt counts`), true);
    const history = await client.getHistory(id);
    const handBacks = history.filter((state) => state.name === 'Enqueued' && state.reason?.includes('handed back at shutdown'));
    assert.equal(handBacks.length, 2 * max);
    assert.match(handBacks[0]!.reason!, /\(1 of 3 times without spending the attempt\)$/);
    const retry = history.find((state) => state.name === 'Scheduled');
    assert.equal(retry?.error?.type, 'JobCancelledError');
  });

  it('counts the hand-backs of a handler that ignores its signal at shutdown too', async () => {
    const store = tempStore();
    const client = testClient(store);
    const stubborn = defineJob('timeouts.stubborn', () => new Promise(() => undefined));
    const id = await client.enqueue(stubborn, undefined, { retry: { attempts: 1 } });
    const max = DEFAULTS.worker.maxShutdownHandBacks;
    for (let restart = 1; restart <= max + 1; restart++) {
      const worker = testWorker({ store, jobs: [stubborn], shutdownTimeout: 10 });
      await worker.start();
      await waitForState(client, id, 'Processing');
      await worker.stop();
    }
    const job = await client.getJob(id);
    assert.equal(job!.state, 'Failed');
    assert.match(job!.stateReason!, /its handler ignored the abort signal: shutdowns interrupted attempt 1 4 times/);
  });
});
