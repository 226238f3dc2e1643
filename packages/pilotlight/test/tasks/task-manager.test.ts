import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { PilotlightError, ValidationError } from '../../src/errors.ts';
import {
  createTaskManager,
  defineTask,
  TaskCancelledError,
  type TaskChange,
  type TaskContext,
  type TaskManager,
  type TaskManagerOptions,
} from '../../src/tasks/index.ts';
import { silentLogger, type Logger } from '../../src/util/logger.ts';
import { waitFor } from '../support/helpers.ts';

function manager(options: Partial<TaskManagerOptions> = {}): TaskManager {
  return createTaskManager({ concurrency: 4, logger: silentLogger, ...options });
}

/** A task type whose runs wait until released by key (or reject when their signal aborts), recording the keys that ran. */
function gated(type: string) {
  const releases = new Map<string, () => void>();
  const ran: string[] = [];
  const task = defineTask(type, (key: string, context: TaskContext) => {
    ran.push(key);
    return new Promise<string>((resolve, reject) => {
      releases.set(key, () => resolve(key));
      context.signal.addEventListener('abort', () => reject(context.signal.reason));
    });
  });
  const release = async (key: string): Promise<void> => {
    await waitFor(() => releases.get(key), `${type}(${key}) to run`);
    releases.get(key)!();
  };
  return { task, ran, release };
}

function recordingLogger() {
  const entries: { level: string; message: string; details: Record<string, unknown> | undefined }[] = [];
  const log = (level: string) => (message: string, details?: Record<string, unknown>) => void entries.push({ level, message, details });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { logger, entries };
}

class MetadataScanTask {
  async run(input: { libraryId: string }, context: TaskContext) {
    context.reportProgress(50, `scanning ${input.libraryId}`);
    await delay(5);
    return input.libraryId.length;
  }
}

describe('statuses and results', () => {
  it('Pending, then Running, then Completed with the value run() returned; snapshots tell the story', async () => {
    const tasks = manager();
    const handle = tasks.start(MetadataScanTask, { libraryId: 'movies' }, { name: 'Metadata library scan' });
    assert.equal(handle.status, 'Pending', 'never started inside start()');
    assert.deepEqual(
      { type: handle.type, name: handle.name, status: tasks.get(handle.id)!.status, startedAt: tasks.get(handle.id)!.startedAt },
      { type: 'MetadataScanTask', name: 'Metadata library scan', status: 'Pending', startedAt: undefined },
    );
    await Promise.resolve();
    assert.equal(handle.status, 'Running', 'started in a microtask');
    assert.equal(await handle.result, 6);
    assert.equal(handle.status, 'Completed');
    const snapshot = tasks.get(handle.id)!;
    assert.equal(snapshot.id, handle.id);
    assert.equal(snapshot.status, 'Completed');
    assert.equal(snapshot.error, undefined);
    assert.deepEqual({ value: snapshot.progress!.value, message: snapshot.progress!.message }, { value: 50, message: 'scanning movies' });
    assert.ok(snapshot.createdAt <= snapshot.startedAt! && snapshot.startedAt! <= snapshot.finishedAt!);
    assert.ok(snapshot.durationMs! >= 4, `durationMs ${snapshot.durationMs}`);
    assert.equal(JSON.parse(JSON.stringify(snapshot)).createdAt, snapshot.createdAt.toISOString(), 'snapshots are JSON-friendly');
  });

  it('names a task after its type by default; a static taskType wins over the class name; activate() creates instances', async () => {
    class Renamed {
      static readonly taskType = 'LibraryRefreshTask';
      readonly prefix: string;
      constructor(prefix: string) {
        this.prefix = prefix;
      }
      run(input: string) {
        return `${this.prefix}${input}`;
      }
    }
    const activated: unknown[] = [];
    const tasks = manager({
      activate: (taskClass) => {
        activated.push(taskClass);
        return new (taskClass as typeof Renamed)('refreshed ');
      },
    });
    const handle = tasks.start(Renamed, 'movies');
    assert.deepEqual([handle.type, handle.name], ['LibraryRefreshTask', 'LibraryRefreshTask']);
    assert.equal(await handle.result, 'refreshed movies');
    assert.deepEqual(activated, [Renamed]);
  });

  it('a task that throws: Failed with the error; result rejects with it; the failure is logged', async () => {
    const { logger, entries } = recordingLogger();
    const tasks = manager({ logger });
    const failing = defineTask('PersonCleanupTask', () => {
      throw new RangeError('bad page size');
    });
    const handle = tasks.start(failing, undefined, { name: 'Person metadata cleanup' });
    await assert.rejects(handle.result, (error: unknown) => error instanceof RangeError && error.message === 'bad page size');
    const { status, error } = tasks.get(handle.id)!;
    assert.deepEqual([status, error!.type, error!.message], ['Failed', 'RangeError', 'bad page size']);
    assert.match(error!.stack!, /RangeError: bad page size/);
    assert.deepEqual(
      entries.map(({ level, message }) => [level, message]),
      [['warn', `Task PersonCleanupTask ${handle.id} ('Person metadata cleanup') failed: bad page size`]],
    );
  });

  it('a task that rejects with a non-Error: Failed with a clear message; result rejects with a PilotlightError whose cause is the value', async () => {
    const tasks = manager();
    const odd = defineTask('OddTask', async () => {
      throw 'disk full';
    });
    const handle = tasks.start(odd, undefined);
    const error = await handle.result.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof PilotlightError);
    assert.equal(error.code, 'NON_ERROR_THROWN');
    assert.equal(error.message, 'A non-Error value was thrown: disk full');
    assert.equal(error.cause, 'disk full');
    assert.deepEqual(tasks.get(handle.id)!.error, { type: 'string', message: 'A non-Error value was thrown: disk full' });
  });

  it('a task class whose constructor throws fails like a task that throws', async () => {
    class Broken {
      constructor() {
        throw new Error('missing dependency');
      }
      run() {}
    }
    const tasks = manager();
    await assert.rejects(tasks.start(Broken, undefined).result, /missing dependency/);
  });

  it('a failed task whose result nobody awaits is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const tasks = manager();
      const handle = tasks.start(
        defineTask('Forgotten', () => Promise.reject(new Error('nobody listens'))),
        undefined,
      );
      await waitFor(() => handle.status === 'Failed', 'the task to fail');
      await delay(20);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('runs a task in the async context of its start() (AsyncLocalStorage), even when it waited in the queue', async () => {
    const store = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const tasks = manager({ concurrency: 1 });
    const probe = defineTask('Probe', async () => {
      await delay(5);
      seen.push(store.getStore());
    });
    const handles = ['request-1', 'request-2', 'request-3'].map((id) => store.run(id, () => tasks.start(probe, undefined)));
    await Promise.all(handles.map((handle) => handle.result));
    assert.deepEqual(seen, ['request-1', 'request-2', 'request-3']);
  });
});

describe('cancellation', () => {
  it('of a pending task: Cancelled at once, never runs, result rejects with a TaskCancelledError', async () => {
    const tasks = manager({ concurrency: 1 });
    const { task, ran, release } = gated('ScanTask');
    const first = tasks.start(task, 'first');
    const second = tasks.start(task, 'second');
    assert.equal(second.cancel('not needed'), true);
    assert.equal(second.status, 'Cancelled');
    await assert.rejects(
      second.result,
      (error: unknown) =>
        error instanceof TaskCancelledError &&
        error.code === 'TASK_CANCELLED' &&
        error.reason === 'cancelled' &&
        error.message === 'Task was cancelled: not needed' &&
        error.taskId === second.id,
    );
    await release('first');
    await first.result;
    await delay(5);
    assert.deepEqual(ran, ['first']);
    const snapshot = tasks.get(second.id)!;
    assert.deepEqual([snapshot.status, snapshot.startedAt, snapshot.durationMs], ['Cancelled', undefined, undefined]);
    assert.deepEqual(
      { type: snapshot.error!.type, message: snapshot.error!.message },
      { type: 'TaskCancelledError', message: 'Task was cancelled: not needed' },
    );
  });

  it('of a running task: its signal aborts with the TaskCancelledError; Cancelled at once', async () => {
    const tasks = manager();
    let reason: unknown;
    const waiting = defineTask('WaitingTask', (_: void, context) => {
      return new Promise((_, reject) => context.signal.addEventListener('abort', () => reject((reason = context.signal.reason))));
    });
    const handle = tasks.start(waiting, undefined);
    await waitFor(() => handle.status === 'Running', 'the task to run');
    assert.equal(tasks.cancel(handle.id), true, 'by id, as an HTTP endpoint would');
    assert.equal(handle.status, 'Cancelled');
    await assert.rejects(handle.result, (error: unknown) => error instanceof TaskCancelledError && error.message === 'Task was cancelled');
    assert.ok(reason instanceof TaskCancelledError);
    assert.equal(tasks.cancel(handle.id), false, 'already finished');
    assert.equal(handle.cancel(), false);
    assert.equal(tasks.cancel('no-such-task'), false);
  });

  it('of a task that ignores its signal: Cancelled at once, but its slot is freed only when its run() settles', async () => {
    const tasks = manager({ concurrency: 1 });
    let finish!: () => void;
    const stubborn = defineTask('StubbornTask', () => new Promise<string>((resolve) => (finish = () => resolve('done anyway'))));
    const handle = tasks.start(stubborn, undefined);
    const next = tasks.start(
      defineTask('NextTask', () => 'next'),
      undefined,
    );
    await waitFor(() => handle.status === 'Running', 'the task to run');
    handle.cancel();
    assert.equal(handle.status, 'Cancelled');
    await assert.rejects(handle.result, TaskCancelledError);
    await delay(20);
    assert.equal(next.status, 'Pending', 'the stubborn task still holds the only slot');
    finish();
    assert.equal(await next.result, 'next');
    assert.equal(tasks.get(handle.id)!.status, 'Cancelled', 'its late success changes nothing');
  });

  it('rejects a reason that is not a string', () => {
    const tasks = manager();
    const handle = tasks.start(
      defineTask('Quick', () => undefined),
      undefined,
    );
    assert.throws(() => handle.cancel(42 as never), /cancel\(\) reason must be a string; received 42/);
  });
});

describe('concurrency', () => {
  it('runs at most `concurrency` tasks at once, first in first out', async () => {
    const tasks = manager({ concurrency: 2 });
    const { task, ran, release } = gated('ScanTask');
    const handles = ['a', 'b', 'c', 'd', 'e'].map((key) => tasks.start(task, key));
    await waitFor(() => ran.length === 2, 'two tasks to run');
    await delay(10);
    assert.deepEqual(ran, ['a', 'b']);
    assert.deepEqual(
      tasks.list({ status: 'Running' }).map((t) => t.id),
      [handles[0]!.id, handles[1]!.id],
    );
    await release('b');
    await waitFor(() => ran.length === 3, 'a third task');
    assert.deepEqual(ran, ['a', 'b', 'c']);
    for (const key of ['a', 'c', 'd', 'e']) await release(key);
    assert.deepEqual(await Promise.all(handles.map((handle) => handle.result)), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(ran, ['a', 'b', 'c', 'd', 'e']);
  });

  it('applies per-type limits; a task held back by its type never holds back other types', async () => {
    const tasks = manager({ concurrency: 3, concurrencyPerType: { EncodingTask: 1 } });
    const encoding = gated('EncodingTask');
    const scan = gated('ScanTask');
    tasks.start(encoding.task, 'e1');
    const e2 = tasks.start(encoding.task, 'e2');
    tasks.start(scan.task, 's1');
    tasks.start(scan.task, 's2');
    const s3 = tasks.start(scan.task, 's3');
    await waitFor(() => scan.ran.length === 2, 'two scans to run');
    await delay(10);
    assert.deepEqual([encoding.ran, scan.ran], [['e1'], ['s1', 's2']], 'e2 waits for e1, the scans started after it do not');
    assert.deepEqual([e2.status, s3.status], ['Pending', 'Pending']);
    // A slot frees: the oldest pending task whose type has room goes first (e2 is older than s3, but EncodingTask is full).
    await scan.release('s1');
    await waitFor(() => s3.status === 'Running', 's3 to run');
    assert.equal(e2.status, 'Pending');
    await encoding.release('e1');
    await waitFor(() => e2.status === 'Running', 'e2 to run');
    for (const key of ['s2', 's3']) await scan.release(key);
    await encoding.release('e2');
    await e2.result;
  });

  it('is FIFO across types when nothing limits them', async () => {
    const tasks = manager({ concurrency: 1 });
    const order: string[] = [];
    const a = defineTask('A', async (key: string) => void order.push(key));
    const b = defineTask('B', async (key: string) => void order.push(key));
    const handles = [tasks.start(a, 'a1'), tasks.start(b, 'b1'), tasks.start(a, 'a2'), tasks.start(b, 'b2')];
    await Promise.all(handles.map((handle) => handle.result));
    assert.deepEqual(order, ['a1', 'b1', 'a2', 'b2']);
  });
});

describe('progress', () => {
  it('is in the snapshot at once; bad values are rejected; ignored once the task is cancelled', async () => {
    const tasks = manager();
    let context!: TaskContext;
    const task = defineTask('ProgressTask', (_: void, ctx) => {
      context = ctx;
      return new Promise(() => undefined);
    });
    const handle = tasks.start(task, undefined);
    await waitFor(() => handle.status === 'Running', 'the task to run');
    context.reportProgress(10, 'page 1 of 10');
    const { progress } = tasks.get(handle.id)!;
    assert.deepEqual({ value: progress!.value, message: progress!.message }, { value: 10, message: 'page 1 of 10' });
    assert.ok(progress!.at instanceof Date);
    context.reportProgress(20);
    assert.equal(tasks.get(handle.id)!.progress!.message, undefined);
    assert.throws(
      () => context.reportProgress(Number.NaN),
      (e: unknown) => e instanceof ValidationError && /reportProgress\(\) value must be a finite number; received NaN/.test(e.message),
    );
    assert.throws(() => context.reportProgress(1, 42 as never), /reportProgress\(\) message must be a string; received 42/);
    handle.cancel();
    context.reportProgress(99);
    assert.equal(tasks.get(handle.id)!.progress!.value, 20);
  });
});

describe('get and list', () => {
  it('lists tasks in creation order, by status and by type (name or class)', async () => {
    const tasks = manager({ concurrency: 1 });
    const { task, release } = gated('ScanTask');
    const running = tasks.start(task, 'one');
    const pending = tasks.start(task, 'two');
    const other = tasks.start(MetadataScanTask, { libraryId: 'x' });
    await waitFor(() => running.status === 'Running', 'the first task to run');
    assert.deepEqual(
      tasks.list().map((t) => t.id),
      [running.id, pending.id, other.id],
    );
    assert.deepEqual(
      tasks.list({ status: 'Pending' }).map((t) => t.id),
      [pending.id, other.id],
    );
    assert.deepEqual(
      tasks.list({ type: 'ScanTask' }).map((t) => t.id),
      [running.id, pending.id],
    );
    assert.deepEqual(
      tasks.list({ type: MetadataScanTask, status: 'Pending' }).map((t) => t.id),
      [other.id],
    );
    assert.throws(
      () => tasks.list({ status: 'Done' as never }),
      /list\(\) query\.status must be one of Pending, Running, Completed, Failed, Cancelled; received "Done"/,
    );
    assert.equal(tasks.get('unknown'), undefined);
    await release('one');
    await release('two');
    await other.result;
  });
});

describe('subscribe', () => {
  it('reports each change with a snapshot, survives listeners that throw or reject, and unsubscribes', async () => {
    const { logger, entries } = recordingLogger();
    const tasks = manager({ logger });
    const changes: TaskChange[] = [];
    const unsubscribe = tasks.subscribe((change) => void changes.push(change));
    tasks.subscribe(() => {
      throw new Error('listener bug');
    });
    tasks.subscribe(async () => Promise.reject(new Error('async listener bug')));
    const handle = tasks.start(MetadataScanTask, { libraryId: 'movies' });
    assert.equal(await handle.result, 6);
    assert.deepEqual(
      changes.map((change) => [change.kind, change.task.status]),
      [
        ['created', 'Pending'],
        ['started', 'Running'],
        ['progress', 'Running'],
        ['finished', 'Completed'],
      ],
    );
    assert.equal(changes[2]!.task.progress!.value, 50);
    assert.ok(changes.every((change) => change.task.id === handle.id));
    await delay(1);
    assert.equal(entries.filter((entry) => entry.level === 'error').length, 8, 'two bad listeners, four changes');
    assert.match(entries[0]!.message, /^A task listener threw on a 'created' change; the task manager goes on$/);
    unsubscribe();
    await tasks.start(MetadataScanTask, { libraryId: 'x' }).result;
    assert.equal(changes.length, 4);
    assert.throws(() => tasks.subscribe('x' as never), /subscribe\(\) listener must be a function; received "x"/);
  });
});

describe('keepFinished', () => {
  it('forgets the oldest finished tasks beyond count, reporting them as removed', async () => {
    const tasks = manager({ concurrency: 1, keepFinished: { count: 2 } });
    const removed: string[] = [];
    tasks.subscribe((change) => void (change.kind === 'removed' && removed.push(change.task.id)));
    const quick = defineTask('Quick', (n: number) => n);
    const handles = [1, 2, 3, 4].map((n) => tasks.start(quick, n));
    await Promise.all(handles.map((handle) => handle.result));
    assert.deepEqual(
      tasks.list().map((t) => t.id),
      [handles[2]!.id, handles[3]!.id],
    );
    assert.deepEqual(removed, [handles[0]!.id, handles[1]!.id]);
    assert.equal(tasks.get(handles[0]!.id), undefined);
  });

  it('forgets finished tasks older than age; never forgets active ones', async () => {
    const tasks = manager({ keepFinished: { age: 30 } });
    const { task, release } = gated('ScanTask');
    const active = tasks.start(task, 'long');
    const done = tasks.start(
      defineTask('Quick', () => 1),
      undefined,
    );
    await done.result;
    assert.equal(tasks.get(done.id)?.status, 'Completed');
    await delay(50);
    assert.equal(tasks.get(done.id), undefined);
    assert.equal(tasks.get(active.id)?.status, 'Running');
    await release('long');
  });

  it('count 0 forgets each task as it finishes; its handle still has the result', async () => {
    const tasks = manager({ keepFinished: { count: 0 } });
    const handle = tasks.start(
      defineTask('Quick', () => 'kept in the handle'),
      undefined,
    );
    assert.equal(await handle.result, 'kept in the handle');
    assert.equal(handle.status, 'Completed');
    assert.deepEqual(tasks.list(), []);
  });
});
