import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import { createTaskManager, defineTask, TaskCancelledError, TaskManagerStoppedError, type TaskContext } from '../../src/tasks/index.ts';
import { silentLogger, type Logger } from '../../src/util/logger.ts';
import { waitFor } from '../support/helpers.ts';

/** Active timers of this process (node:test's own per-test timer included: compare before and after). */
function timers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

/** Runs until released, or rejects when its signal aborts. */
function gated() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const task = defineTask('ScanTask', (_: void, context: TaskContext) => {
    return new Promise<string>((resolve, reject) => {
      void released.then(() => resolve('finished'));
      context.signal.addEventListener('abort', () => reject(context.signal.reason));
    });
  });
  return { task, release: () => release() };
}

describe('shutdown', () => {
  it('stops accepting, cancels pending tasks, and waits for running ones that finish within the timeout', async () => {
    const before = timers();
    const tasks = createTaskManager({ concurrency: 1, logger: silentLogger });
    const { task, release } = gated();
    const running = tasks.start(task, undefined);
    const pending = tasks.start(task, undefined);
    await waitFor(() => running.status === 'Running', 'the first task to run');
    const stopping = tasks.shutdown({ timeout: 5_000 });
    assert.equal(pending.status, 'Cancelled', 'at once');
    await assert.rejects(
      pending.result,
      (error: unknown) =>
        error instanceof TaskCancelledError &&
        error.code === 'TASK_CANCELLED' &&
        error.reason === 'shutdown' &&
        error.message === 'Task was cancelled: the task manager is shutting down',
    );
    assert.throws(
      () => tasks.start(task, undefined),
      (error: unknown) =>
        error instanceof TaskManagerStoppedError &&
        error.code === 'TASK_MANAGER_STOPPED' &&
        error.message === 'start() of a ScanTask task refused: the task manager is shutting down',
    );
    assert.equal(running.status, 'Running');
    release();
    await stopping;
    assert.equal(await running.result, 'finished');
    assert.equal(running.status, 'Completed');
    assert.throws(() => tasks.start(task, undefined), /start\(\) of a ScanTask task refused: the task manager is shut down/);
    assert.deepEqual(
      tasks.list().map((snapshot) => snapshot.status),
      ['Completed', 'Cancelled'],
      'get() and list() still answer',
    );
    assert.equal(timers(), before, 'no timer left behind');
  });

  it('aborts the tasks still running after the timeout: their signal fires with a shutdown TaskCancelledError', async () => {
    const before = timers();
    const tasks = createTaskManager({ concurrency: 2, logger: silentLogger });
    const { task } = gated();
    const handles = [tasks.start(task, undefined), tasks.start(task, undefined)];
    await waitFor(() => handles.every((handle) => handle.status === 'Running'), 'both tasks to run');
    const started = performance.now();
    await tasks.shutdown({ timeout: 50 });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 45 && elapsed < 1_000, `resolved after ${elapsed} ms`);
    for (const handle of handles) {
      assert.equal(handle.status, 'Cancelled');
      await assert.rejects(handle.result, (error: unknown) => error instanceof TaskCancelledError && error.reason === 'shutdown');
    }
    assert.equal(timers(), before);
  });

  it('leaves a task that ignores its signal behind after a grace of min(1 s, timeout), and logs it', async () => {
    const before = timers();
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void warnings.push(message) };
    const tasks = createTaskManager({ concurrency: 1, logger });
    const stubborn = defineTask('StubbornTask', () => new Promise(() => undefined));
    const handle = tasks.start(stubborn, undefined, { name: 'never ends' });
    await waitFor(() => handle.status === 'Running', 'the task to run');
    const started = performance.now();
    await tasks.shutdown({ timeout: 40 });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 75 && elapsed < 1_000, `resolved after ${elapsed} ms (timeout, then the grace)`);
    assert.equal(handle.status, 'Cancelled');
    assert.deepEqual(warnings, [`Task StubbornTask ${handle.id} ('never ends') ignored its abort signal; shutdown() leaves it running`]);
    assert.equal(timers(), before);
  });

  it('resolves at once with nothing running; later calls return the same promise; the timeout is validated', async () => {
    const before = timers();
    const tasks = createTaskManager({ concurrency: 1, logger: silentLogger });
    assert.throws(
      () => tasks.shutdown({ timeout: -1 }),
      (error: unknown) =>
        error instanceof ValidationError && /shutdown\(\) options\.timeout must be an integer >= 0; received -1/.test(error.message),
    );
    const first = tasks.shutdown();
    assert.equal(tasks.shutdown({ timeout: 1 }), first);
    await first;
    assert.equal(timers(), before);
  });
});
