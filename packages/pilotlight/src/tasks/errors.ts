import { PilotlightError } from '../errors.ts';
import { TASK_CANCELLED_DESCRIPTION } from './names.ts';

/**
 * Why a task was cancelled: the reason of its `AbortSignal`, the rejection of its `result` and its
 * snapshot's `error`. The message starts with `Task was cancelled`, followed by the reason if any.
 */
export class TaskCancelledError extends PilotlightError {
  override name = 'TaskCancelledError';
  readonly taskId: string;
  /** `'cancelled'`: `cancel()` was called; `'shutdown'`: the task manager is shutting down. */
  readonly code: 'cancelled' | 'shutdown';
  constructor(taskId: string, code: TaskCancelledError['code'], reason?: string) {
    super(reason === undefined ? TASK_CANCELLED_DESCRIPTION : `${TASK_CANCELLED_DESCRIPTION}: ${reason}`);
    this.taskId = taskId;
    this.code = code;
  }
}

/** `start()` after `shutdown()` was called: the task manager accepts no more tasks. */
export class TaskManagerStoppedError extends PilotlightError {
  override name = 'TaskManagerStoppedError';
}
