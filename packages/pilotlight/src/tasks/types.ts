import type { ErrorDetails } from '../types.ts';
import type { TaskType } from './define-task.ts';

/** The statuses of a task: Pending → Running → one of the three final ones (Pending → Cancelled too). */
export const TaskStatuses = {
  Pending: 'Pending',
  Running: 'Running',
  Completed: 'Completed',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
} as const;

export type TaskStatus = (typeof TaskStatuses)[keyof typeof TaskStatuses];
export type FinalTaskStatus = Exclude<TaskStatus, 'Pending' | 'Running'>;

export const TASK_STATUSES: readonly TaskStatus[] = Object.values(TaskStatuses);

export interface TaskProgress {
  readonly value: number;
  readonly message?: string;
  /** When it was reported. */
  readonly at: Date;
}

/** A task as `get()`, `list()` and `subscribe()` show it: a copy, true when it was taken (JSON-friendly). */
export interface TaskSnapshot {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly status: TaskStatus;
  /** The last progress reported, if any. */
  readonly progress: TaskProgress | undefined;
  readonly createdAt: Date;
  /** When it started running; undefined while Pending, and for a task cancelled before it ran. */
  readonly startedAt: Date | undefined;
  /** When it reached its final status. */
  readonly finishedAt: Date | undefined;
  /** Running time in ms: so far while Running, in total once finished; undefined if it never ran. */
  readonly durationMs: number | undefined;
  /** Failed: what the task threw; Cancelled: the `TaskCancelledError`. */
  readonly error: ErrorDetails | undefined;
}

/** What `start()` returns. */
export interface TaskHandle<Result = unknown> {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  /** The task's status now (read live). */
  readonly status: TaskStatus;
  /**
   * Resolves with what `run()` returned; rejects with what it threw (a non-Error value wrapped in a
   * `PilotlightError` whose `cause` it is), or with a `TaskCancelledError`. Never reported as an
   * unhandled rejection: a task that is started and forgotten does not crash the process.
   */
  readonly result: Promise<Result>;
  /** Cancels the task if it is not finished (see `TaskManager.cancel()`); returns whether it did. */
  cancel(reason?: string): boolean;
}

export interface StartTaskOptions {
  /** Human-readable name, on snapshots and spans (`task.name`). @default the task type */
  readonly name?: string;
}

export interface ListTasksQuery {
  readonly status?: TaskStatus;
  /** A type name, task class or definition. */
  readonly type?: string | TaskType;
}

/** A change `subscribe()` reports, with the task as it is after the change. */
export interface TaskChange {
  /**
   * `created`: `start()` queued it; `started`: it runs; `progress`: it reported progress; `finished`:
   * Completed, Failed or Cancelled; `removed`: forgotten under `keepFinished`.
   */
  readonly kind: 'created' | 'started' | 'progress' | 'finished' | 'removed';
  readonly task: TaskSnapshot;
}

export type TaskListener = (change: TaskChange) => void;
