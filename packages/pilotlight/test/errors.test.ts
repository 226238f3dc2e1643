import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as application from '../src/index.ts';
import {
  createTaskManager,
  defineJob,
  ErrorCodes,
  JobCancelledError,
  JobNotFoundError,
  JobNotRegisteredError,
  PilotlightError,
  silentLogger,
  StoreClosedError,
  TaskCancelledError,
  TaskManagerStoppedError,
  UnrecoverableError,
  ValidationError,
  type PerformedContext,
} from '../src/index.ts';
import * as storeKit from '../src/store-kit.ts';
import { CronSchedule } from '../src/recurring/schedule.ts';
import { isAtLeastVersion, loadNodeSqlite, MINIMUM_NODE_VERSION } from '../src/storage/sqlite/node-sqlite.ts';
import { createSqliteStore } from '../src/sqlite.ts';
import { testClient, testWorker, tempStore, waitFor } from './support/helpers.ts';

/** `error` is a PilotlightError with `code` (and, when given, an instance of `type`). */
function hasCode(code: string, type: abstract new (...args: never[]) => Error = PilotlightError) {
  return (error: unknown) => {
    assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
    assert.ok(error instanceof PilotlightError, `expected a PilotlightError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

describe('errors', () => {
  it('codes are stable strings, each its own name, one per condition', () => {
    for (const [key, value] of Object.entries(ErrorCodes)) assert.equal(value, key);
    assert.equal(new Set(Object.values(ErrorCodes)).size, Object.keys(ErrorCodes).length);
  });

  it('every error class is a PilotlightError with its code, exported by the application entry; the store ones by store-kit too', () => {
    const cases: [PilotlightError, string, string][] = [
      [new ValidationError('bad'), 'ValidationError', 'VALIDATION'],
      [new JobNotFoundError('7'), 'JobNotFoundError', 'JOB_NOT_FOUND'],
      [new UnrecoverableError('gone'), 'UnrecoverableError', 'UNRECOVERABLE'],
      [new JobCancelledError('lost', 'taken'), 'JobCancelledError', 'JOB_CANCELLED'],
      [new JobNotRegisteredError('T', 'm', 'unknown'), 'JobNotRegisteredError', 'JOB_NOT_REGISTERED'],
      [new StoreClosedError('closed'), 'StoreClosedError', 'STORE_CLOSED'],
      [new TaskCancelledError('1', 'cancelled'), 'TaskCancelledError', 'TASK_CANCELLED'],
      [new TaskManagerStoppedError('stopped'), 'TaskManagerStoppedError', 'TASK_MANAGER_STOPPED'],
    ];
    for (const [error, name, code] of cases) {
      assert.ok(error instanceof PilotlightError && error instanceof Error, name);
      assert.equal(error.name, name);
      assert.equal(error.code, code);
      assert.equal((application as Record<string, unknown>)[name], error.constructor, `pilotlight exports ${name}`);
    }
    for (const name of ['PilotlightError', 'ValidationError', 'JobNotFoundError', 'StoreClosedError', 'ErrorCodes']) {
      assert.equal(
        (storeKit as Record<string, unknown>)[name],
        (application as Record<string, unknown>)[name],
        `pilotlight/store-kit exports ${name}`,
      );
    }
    assert.equal(new JobCancelledError('shutdown', 'stopping').reason, 'shutdown');
    assert.equal(new UnrecoverableError('gone', { cause: 'why' }).cause, 'why');
  });

  it('bad input: ValidationError; an unknown job: JobNotFoundError', async () => {
    const client = testClient(tempStore());
    const job = defineJob('errors.noop', () => undefined);
    await assert.rejects(client.enqueue(job, undefined, { queue: '' }), hasCode('VALIDATION', ValidationError));
    await assert.rejects(client.delete('999'), hasCode('JOB_NOT_FOUND', JobNotFoundError));
    await assert.rejects(client.recurring.trigger('nightly'), hasCode('JOB_NOT_FOUND', JobNotFoundError));
  });

  it('a worker started twice, or after stop(): WORKER_NOT_IDLE, naming what to do', async () => {
    const worker = testWorker({ store: tempStore(), jobs: [] });
    await worker.start();
    await assert.rejects(
      worker.start(),
      (error: unknown) =>
        hasCode('WORKER_NOT_IDLE')(error) && /cannot start: it is running.*createWorker\(\)/.test((error as Error).message),
    );
    await worker.stop();
    await assert.rejects(worker.start(), hasCode('WORKER_NOT_IDLE'));
  });

  it('a job this worker does not know fails its attempt with a JobNotRegisteredError; an UnrecoverableError thrown by a job is recognised', async () => {
    const store = tempStore();
    const client = testClient(store);
    const unknown = defineJob('errors.unknown', () => undefined);
    const unrecoverable = defineJob('errors.unrecoverable', () => {
      throw new UnrecoverableError('the tenant is gone');
    });
    const performed: PerformedContext[] = [];
    const worker = testWorker({
      store,
      jobs: [unrecoverable],
      retry: { attempts: 3 },
      filters: [{ onPerformed: (context) => void performed.push(context) }],
    });
    await worker.start();
    await client.enqueue(unknown, undefined);
    await client.enqueue(unrecoverable, undefined);
    await waitFor(() => performed.length === 2, 'both attempts');
    const byType = new Map(performed.map((context) => [context.job.type, context]));
    const notRegistered = byType.get('errors.unknown')!.error;
    assert.ok(hasCode('JOB_NOT_REGISTERED', JobNotRegisteredError)(notRegistered));
    assert.equal((notRegistered as JobNotRegisteredError).type, 'errors.unknown');
    assert.match((notRegistered as Error).message, /add its definition to createWorker\(\) options\.jobs/);
    assert.equal(byType.get('errors.unknown')!.finalState?.name, 'Scheduled', 'retried: another worker may know it');
    assert.ok(hasCode('UNRECOVERABLE', UnrecoverableError)(byType.get('errors.unrecoverable')!.error));
    assert.equal(byType.get('errors.unrecoverable')!.finalState?.name, 'Failed', 'not retried');
  });

  it('a call to a closed SQLite store: StoreClosedError', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.close();
    await assert.rejects(store.getJob('1'), hasCode('STORE_CLOSED', StoreClosedError));
    await assert.rejects(
      store.claimJobs({ queues: ['default'], limit: 1, serverName: 'w', now: new Date(), leaseUntil: new Date() }),
      hasCode('STORE_CLOSED', StoreClosedError),
    );
  });

  it('a cron expression with no further occurrence: NO_NEXT_OCCURRENCE, naming the expression', () => {
    const once = new CronSchedule('0 0 0 1 1 * 2099', 'UTC'); // seconds first, then a year: one occurrence
    assert.equal(once.next(new Date('2098-06-01T00:00:00Z')).toISOString(), '2099-01-01T00:00:00.000Z');
    assert.throws(
      () => once.next(new Date('2099-06-01T00:00:00Z')),
      (error: unknown) =>
        hasCode('NO_NEXT_OCCURRENCE')(error) &&
        /"0 0 0 1 1 \* 2099" \(time zone UTC\) has no occurrence after 2099-06-01/.test((error as Error).message),
    );
  });

  it('an unsupported Node.js: UNSUPPORTED_RUNTIME, naming the version needed', () => {
    assert.equal(isAtLeastVersion('22.13.0', MINIMUM_NODE_VERSION), true);
    assert.equal(isAtLeastVersion('22.20.1', MINIMUM_NODE_VERSION), true);
    assert.equal(isAtLeastVersion('24.0.0', MINIMUM_NODE_VERSION), true);
    assert.equal(isAtLeastVersion('22.12.9', MINIMUM_NODE_VERSION), false);
    assert.equal(isAtLeastVersion('20.19.0', MINIMUM_NODE_VERSION), false);
    assert.throws(
      () => loadNodeSqlite({ nodeVersion: '22.12.0' }),
      (error: unknown) =>
        hasCode('UNSUPPORTED_RUNTIME')(error) &&
        /^The SQLite store needs Node\.js 22\.13\.0 or later.*this is Node\.js 22\.12\.0\. Upgrade Node\.js, or use another store such as @pilotlight\/postgres\.$/.test(
          (error as Error).message,
        ),
    );
    assert.equal(typeof loadNodeSqlite().DatabaseSync, 'function');
  });

  it('tasks: TaskManagerStoppedError after shutdown(), TaskCancelledError with its reason, NON_ERROR_THROWN for a thrown non-Error', async () => {
    const tasks = createTaskManager({ concurrency: 1, logger: silentLogger });
    const odd = application.defineTask('OddTask', async () => {
      throw 42;
    });
    await assert.rejects(tasks.start(odd, undefined).result, hasCode('NON_ERROR_THROWN'));
    const waiting = application.defineTask(
      'WaitingTask',
      (_input: undefined, context) => new Promise((resolve) => context.signal.addEventListener('abort', resolve)),
    );
    const handle = tasks.start(waiting, undefined);
    handle.cancel('not needed');
    await assert.rejects(
      handle.result,
      (error: unknown) => hasCode('TASK_CANCELLED', TaskCancelledError)(error) && (error as TaskCancelledError).reason === 'cancelled',
    );
    await tasks.shutdown();
    assert.throws(() => tasks.start(odd, undefined), hasCode('TASK_MANAGER_STOPPED', TaskManagerStoppedError));
  });
});
