import { context as otelContext } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, validateInteger, validateNonEmptyString } from '../validation/validate.ts';
import { ErrorCodes, PilotlightError, ValidationError } from '../errors.ts';
import { toErrorDetails } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { isTaskDefinition, taskTypeName, type TaskType } from './define-task.ts';
import { TASK_DEFAULTS } from './defaults.ts';
import { TaskCancelledError, TaskManagerStoppedError } from './errors.ts';
import { FinishedTasks } from './finished-tasks.ts';
import { resolveTaskManagerOptions, type ResolvedTaskManagerOptions, type TaskManagerOptions } from './manager-options.ts';
import { PendingQueue } from './pending-queue.ts';
import type { TaskContext } from './task-context.ts';
import { TaskMetrics } from './task-metrics.ts';
import { TaskRecord } from './task-record.ts';
import { TaskTracer } from './task-span.ts';
import {
  TASK_STATUSES,
  TaskStatuses,
  type FinalTaskStatus,
  type ListTasksQuery,
  type StartTaskOptions,
  type TaskChange,
  type TaskHandle,
  type TaskListener,
  type TaskSnapshot,
} from './types.ts';
import { uuidV7Generator } from '../util/uuid-v7.ts';
import { settlesWithin } from '../util/settles-within.ts';

const SHUTDOWN_REASON = 'the task manager is shutting down';
const ignore = (): void => undefined;

/**
 * Runs background tasks in this process, up to `concurrency` at once (and per type, up to
 * `concurrencyPerType`), pending ones first in first out, with live status, progress and
 * cancellation. Nothing is stored: tasks do not survive a restart and are never retried (use jobs
 * for that). Each task gets one span, `BackgroundTask.{TaskType}`, related to the span active at
 * `start()`, and is measured by the metrics `pilotlight.tasks.running` and `pilotlight.task.duration`.
 *
 * ```ts
 * const tasks = createTaskManager({ concurrency: 4, concurrencyPerType: { MetadataScanTask: 1 } });
 * const scan = tasks.start(MetadataScanTask, { libraryId }, { name: 'Metadata library scan' });
 * tasks.subscribe(({ kind, task }) => sse.send(kind, task));
 * await tasks.shutdown({ timeout: 10_000 });
 * ```
 *
 * A task runs in the async context of its `start()` call (AsyncLocalStorage values, the active span),
 * even when it waited in the queue. A task that ignores its `AbortSignal` is still Cancelled at once
 * when cancelled (status, `result`, span), but keeps its concurrency slot until its `run()` settles:
 * the work really goes on.
 */
export class TaskManager {
  readonly #options: ResolvedTaskManagerOptions;
  readonly #logger: Logger;
  /** Undefined when tracing is disabled: then nothing touches OpenTelemetry. */
  readonly #tracer: TaskTracer | undefined;
  /** Undefined when metrics are disabled: then nothing is recorded. */
  readonly #metrics: TaskMetrics | undefined;
  readonly #nextId = uuidV7Generator();
  /** Every task `get()` can show, in creation order: active ones and the finished ones kept. */
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #pending = new PendingQueue();
  readonly #finished: FinishedTasks;
  /** Tasks whose `run()` has not settled: the slots in use. */
  readonly #running = new Set<TaskRecord>();
  readonly #runningByType = new Map<string, number>();
  readonly #listeners = new Set<TaskListener>();
  #seq = 0;
  #state: 'accepting' | 'shutting down' | 'shut down' = 'accepting';
  #shutdown: Promise<void> | undefined;

  constructor(options: TaskManagerOptions) {
    this.#options = resolveTaskManagerOptions(options);
    this.#logger = this.#options.logger;
    this.#tracer = this.#options.tracing.enabled ? new TaskTracer(this.#options.tracing) : undefined;
    this.#metrics = this.#options.metrics.enabled ? new TaskMetrics(this.#options.metrics) : undefined;
    this.#finished = new FinishedTasks(this.#options.keepFinished);
  }

  /**
   * Queues a task; it starts as soon as a slot is free (never synchronously inside this call). Throws
   * a `ValidationError` for a bad task type or name, a `TaskManagerStoppedError` once `shutdown()` was called.
   */
  start<Input, Result>(taskType: TaskType<Input, Result>, input: Input, options: StartTaskOptions = {}): TaskHandle<Awaited<Result>> {
    const type = taskTypeName(taskType, 'start() taskType');
    if (typeof options !== 'object' || options === null)
      throw new ValidationError(`start() options must be an object; received ${describe(options)}`);
    const name =
      options.name === undefined ? type : validateNonEmptyString(options.name, 'start() options.name', TASK_DEFAULTS.maxNameLength);
    if (this.#state !== 'accepting')
      throw new TaskManagerStoppedError(`start() of a ${type} task refused: the task manager is ${this.#state}`);
    const task = new TaskRecord(this.#nextId(), type, name, this.#seq++, taskType, input, this.#tracer && otelContext.active());
    const result = new Promise<Awaited<Result>>(
      (resolve, reject) => (task.settle = { resolve: resolve as (value: unknown) => void, reject }),
    );
    result.catch(ignore); // a forgotten task's failure is no unhandled rejection
    this.#tasks.set(task.id, task);
    if (this.#pending.size === 0 && this.#running.size < this.#options.concurrency && this.#hasRoom(type)) {
      this.#dispatch(task);
    } else {
      task.inStartContext = AsyncLocalStorage.snapshot();
      this.#pending.add(task);
      this.#drain();
    }
    this.#emit('created', task);
    return {
      id: task.id,
      type,
      name,
      get status() {
        return task.status;
      },
      result,
      cancel: (reason?: string) => this.#cancel(task, 'cancelled', validateReason(reason)),
    };
  }

  /** The task now, or undefined if it is unknown or was forgotten (see `keepFinished`). */
  get(id: string): TaskSnapshot | undefined {
    this.#expire();
    return this.#tasks.get(id)?.snapshot();
  }

  /** The tasks `get()` can show, in creation order, optionally of one status and one type. */
  list(query: ListTasksQuery = {}): TaskSnapshot[] {
    if (typeof query !== 'object' || query === null)
      throw new ValidationError(`list() query must be an object; received ${describe(query)}`);
    const { status } = query;
    if (status !== undefined && !TASK_STATUSES.includes(status)) {
      throw new ValidationError(`list() query.status must be one of ${TASK_STATUSES.join(', ')}; received ${describe(status)}`);
    }
    const type = query.type === undefined || typeof query.type === 'string' ? query.type : taskTypeName(query.type, 'list() query.type');
    this.#expire();
    const snapshots: TaskSnapshot[] = [];
    for (const task of this.#tasks.values()) {
      if ((status === undefined || task.status === status) && (type === undefined || task.type === type)) snapshots.push(task.snapshot());
    }
    return snapshots;
  }

  /**
   * Cancels a pending or running task: it is Cancelled at once, its `result` rejects and its signal
   * aborts with a `TaskCancelledError` (message `Task was cancelled: {reason}`). Returns false if the
   * task is unknown or already finished.
   */
  cancel(id: string, reason?: string): boolean {
    const task = this.#tasks.get(id);
    return task !== undefined && this.#cancel(task, 'cancelled', validateReason(reason));
  }

  /**
   * Calls `listener` after each change of any task (for a UI or server-sent events), synchronously,
   * with a snapshot. Progress is reported as often as tasks report it. A listener that throws (or
   * rejects) is logged and never breaks the manager. Returns the function that unsubscribes.
   */
  subscribe(listener: TaskListener): () => void {
    if (typeof listener !== 'function')
      throw new ValidationError(`subscribe() listener must be a function; received ${describe(listener)}`);
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Stops accepting tasks (`start()` throws), cancels the pending ones, waits up to `timeout` ms for
   * the running ones, then cancels those (their signal aborts) and waits up to 1 s more for them to
   * settle; a task still running after that is logged and left behind. Leaves no timer. Idempotent:
   * later calls return the first call's promise.
   */
  shutdown(options: { readonly timeout?: number } = {}): Promise<void> {
    if (typeof options !== 'object' || options === null)
      throw new ValidationError(`shutdown() options must be an object; received ${describe(options)}`);
    const timeout = validateInteger(options.timeout ?? TASK_DEFAULTS.shutdownTimeout, 'shutdown() options.timeout', 0);
    this.#shutdown ??= this.#shutDown(timeout);
    return this.#shutdown;
  }

  async #shutDown(timeout: number): Promise<void> {
    this.#state = 'shutting down';
    // Pending: queued, or dispatched to a microtask that has not run yet.
    for (const task of [...this.#pending.all(), ...this.#running]) {
      if (task.status === TaskStatuses.Pending) this.#cancel(task, 'shutdown', SHUTDOWN_REASON);
    }
    const settled = (): Promise<unknown> => Promise.all([...this.#running].map((task) => task.work));
    if (this.#running.size > 0 && !(await settlesWithin(settled(), timeout))) {
      for (const task of this.#running) this.#cancel(task, 'shutdown', SHUTDOWN_REASON);
      if (!(await settlesWithin(settled(), Math.min(TASK_DEFAULTS.abortGrace, timeout)))) {
        for (const task of this.#running)
          this.#logger.warn(`Task ${task.type} ${task.id} ('${task.name}') ignored its abort signal; shutdown() leaves it running`);
      }
    }
    this.#state = 'shut down';
  }

  /** Dispatches pending tasks, oldest first, while slots are free. Never runs a task synchronously. */
  #drain(): void {
    while (this.#running.size < this.#options.concurrency) {
      const task = this.#pending.take(this.#hasRoom);
      if (!task) return;
      this.#dispatch(task);
    }
  }

  readonly #hasRoom = (type: string): boolean => {
    const limit = this.#options.concurrencyPerType.get(type);
    return limit === undefined || (this.#runningByType.get(type) ?? 0) < limit;
  };

  /** Takes a slot for `task` and runs it in a microtask (queued in the caller's async context). */
  #dispatch(task: TaskRecord): void {
    this.#running.add(task);
    this.#runningByType.set(task.type, (this.#runningByType.get(task.type) ?? 0) + 1);
    queueMicrotask(() => this.#run(task));
  }

  #run(task: TaskRecord): void {
    if (task.finished) return this.#release(task); // cancelled while dispatched
    task.status = TaskStatuses.Running;
    task.startedAt = Date.now();
    task.startedTime = performance.now();
    const input = task.input;
    task.input = undefined;
    task.span = this.#tracer?.start(task, task.parentContext!);
    task.span?.started();
    this.#emit('started', task);
    task.work = task.inStartContext ? task.inStartContext(() => this.#perform(task, input)) : this.#perform(task, input);
    task.inStartContext = undefined;
  }

  #release(task: TaskRecord): void {
    this.#running.delete(task);
    const count = this.#runningByType.get(task.type)! - 1;
    if (count === 0) this.#runningByType.delete(task.type);
    else this.#runningByType.set(task.type, count);
    this.#drain();
  }

  async #perform(task: TaskRecord, input: unknown): Promise<void> {
    this.#metrics?.runStarted(task.type);
    try {
      if (task.finished) return; // cancelled by a 'started' listener
      const context = this.#context(task);
      const invoke = (): unknown => {
        const { taskType } = task;
        return isTaskDefinition(taskType) ? taskType.run(input, context) : this.#options.activate(taskType).run(input, context);
      };
      const value = await (task.span ? task.span.with(invoke) : invoke());
      if (!task.finished) this.#finish(task, TaskStatuses.Completed, value);
    } catch (error) {
      if (!task.finished) this.#finish(task, TaskStatuses.Failed, error);
    } finally {
      this.#metrics?.runEnded(task.type);
      this.#release(task);
    }
  }

  #context(task: TaskRecord): TaskContext {
    return {
      id: task.id,
      type: task.type,
      name: task.name,
      signal: task.controller.signal,
      reportProgress: (value: number, message?: string) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new ValidationError(`reportProgress() value must be a finite number; received ${describe(value)}`);
        }
        if (message !== undefined && typeof message !== 'string')
          throw new ValidationError(`reportProgress() message must be a string; received ${describe(message)}`);
        if (task.status !== TaskStatuses.Running) return;
        task.progress = { value, message, at: Date.now() };
        task.span?.progress(value, message);
        this.#emit('progress', task);
      },
    };
  }

  #cancel(task: TaskRecord, why: TaskCancelledError['reason'], reason: string | undefined): boolean {
    if (task.finished) return false;
    const error = new TaskCancelledError(task.id, why, reason);
    this.#pending.remove(task);
    this.#finish(task, TaskStatuses.Cancelled, error);
    task.controller.abort(error);
    return true;
  }

  /**
   * Records the final status; settles `result`; ends the span and records the duration (a task
   * cancelled before it ran gets a zero-length span and a duration of 0).
   */
  #finish(task: TaskRecord, status: FinalTaskStatus, outcome: unknown): void {
    task.status = status;
    task.input = undefined; // a task cancelled before it ran still held it
    task.finishedAt = Date.now();
    task.finishedTime = performance.now();
    const settle = task.settle!;
    task.settle = undefined;
    if (status === TaskStatuses.Completed) {
      settle.resolve(outcome);
    } else {
      const details = toErrorDetails(outcome);
      task.error = details;
      settle.reject(
        outcome instanceof Error ? outcome : new PilotlightError(ErrorCodes.NON_ERROR_THROWN, details.message, { cause: outcome }),
      );
      if (status === TaskStatuses.Failed)
        this.#logger.warn(`Task ${task.type} ${task.id} ('${task.name}') failed: ${details.message}`, { error: outcome });
    }
    const span = task.span ?? this.#tracer?.start(task, task.parentContext!);
    task.span = undefined;
    const durationMs = task.durationMs();
    span?.end(status, durationMs, outcome);
    this.#metrics?.finished(task.type, status, durationMs, status === TaskStatuses.Failed ? task.error!.type : undefined);
    this.#emit('finished', task);
    for (const forgotten of this.#finished.add(task)) this.#forget(forgotten);
  }

  #expire(): void {
    for (const forgotten of this.#finished.expire()) this.#forget(forgotten);
  }

  #forget(task: TaskRecord): void {
    this.#tasks.delete(task.id);
    this.#emit('removed', task);
  }

  #emit(kind: TaskChange['kind'], task: TaskRecord): void {
    if (this.#listeners.size === 0) return;
    const change: TaskChange = Object.freeze({ kind, task: Object.freeze(task.snapshot()) });
    for (const listener of [...this.#listeners]) {
      try {
        const returned: unknown = listener(change);
        if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function')
          Promise.resolve(returned).catch((error: unknown) => this.#listenerFailed(kind, error));
      } catch (error) {
        this.#listenerFailed(kind, error);
      }
    }
  }

  #listenerFailed(kind: TaskChange['kind'], error: unknown): void {
    this.#logger.error(`A task listener threw on a '${kind}' change; the task manager goes on`, { error });
  }
}

export function createTaskManager(options: TaskManagerOptions): TaskManager {
  return new TaskManager(options);
}

function validateReason(reason: unknown): string | undefined {
  if (reason !== undefined && typeof reason !== 'string')
    throw new ValidationError(`cancel() reason must be a string; received ${describe(reason)}`);
  return reason;
}
