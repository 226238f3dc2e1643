import type { Context } from '@opentelemetry/api';
import type { ErrorDetails } from '../types.ts';
import type { TaskType } from './define-task.ts';
import type { TaskSpan } from './task-span.ts';
import { TaskStatuses, type TaskProgress, type TaskSnapshot, type TaskStatus } from './types.ts';

/** The task manager's own, mutable record of one task; the outside world sees snapshots and handles. */
export class TaskRecord {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  /** Creation order: the FIFO among pending tasks. */
  readonly seq: number;
  readonly taskType: TaskType;
  /** Dropped once the task runs or is cancelled, so that a finished task kept for `list()` holds no input. */
  input: unknown;
  status: TaskStatus = TaskStatuses.Pending;
  progress: { readonly value: number; readonly message: string | undefined; readonly at: number } | undefined;
  error: ErrorDetails | undefined;
  /** Epoch ms; snapshots turn them into fresh `Date`s. */
  readonly createdAt = Date.now();
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** `performance.now()` at start and finish: durations from the monotonic clock. */
  startedTime = 0;
  finishedTime = 0;
  readonly controller = new AbortController();
  /**
   * For a task that had to wait in the queue: runs a function in the async context of its `start()`
   * call (AsyncLocalStorage values, OpenTelemetry context). Taken only then (it costs a few µs): a task
   * that starts at once is dispatched by a microtask queued in that context already.
   */
  inStartContext: (<R>(fn: () => R) => R) | undefined;
  /** The OpenTelemetry context active at `start()` (with tracing on): what the span relates to. */
  readonly parentContext: Context | undefined;
  span: TaskSpan | undefined;
  /** While it runs (and after a cancel, until it settles): the work's end. */
  work: Promise<void> | undefined;
  /** Settle the handle's `result`; cleared once used. */
  settle: { resolve: (value: unknown) => void; reject: (reason: unknown) => void } | undefined;

  constructor(id: string, type: string, name: string, seq: number, taskType: TaskType, input: unknown, parentContext: Context | undefined) {
    this.id = id;
    this.type = type;
    this.name = name;
    this.seq = seq;
    this.taskType = taskType;
    this.input = input;
    this.parentContext = parentContext;
  }

  get finished(): boolean {
    return this.finishedAt !== undefined;
  }

  /** Running time in ms: 0 for a task that never ran, so far for a running one. */
  durationMs(): number {
    if (this.startedAt === undefined) return 0;
    return (this.finishedAt === undefined ? performance.now() : this.finishedTime) - this.startedTime;
  }

  snapshot(): TaskSnapshot {
    return {
      id: this.id,
      type: this.type,
      name: this.name,
      status: this.status,
      progress: this.progress && progressSnapshot(this.progress),
      createdAt: new Date(this.createdAt),
      startedAt: this.startedAt === undefined ? undefined : new Date(this.startedAt),
      finishedAt: this.finishedAt === undefined ? undefined : new Date(this.finishedAt),
      durationMs: this.startedAt === undefined ? undefined : this.durationMs(),
      error: this.error,
    };
  }
}

function progressSnapshot(progress: NonNullable<TaskRecord['progress']>): TaskProgress {
  const at = new Date(progress.at);
  return progress.message === undefined ? { value: progress.value, at } : { value: progress.value, message: progress.message, at };
}
