import { ErrorCodes, PilotlightError } from '../errors.ts';
import { TASK_CANCELLED_DESCRIPTION } from './names.ts';

/**
 * Why a task was cancelled: the reason of its `AbortSignal`, the rejection of its `result` and its
 * snapshot's `error`. The message starts with `Task was cancelled`, followed by the reason if any.
 */
export class TaskCancelledError extends PilotlightError {
  override name = 'TaskCancelledError';
  readonly taskId: string;
  /** `'cancelled'`: `cancel()` was called; `'shutdown'`: the task manager is shutting down. */
  readonly reason: 'cancelled' | 'shutdown';
  /** `detail`: the text given to `cancel(reason)`, appended to the message. */
  constructor(taskId: string, reason: TaskCancelledError['reason'], detail?: string) {
    super(ErrorCodes.TASK_CANCELLED, detail === undefined ? TASK_CANCELLED_DESCRIPTION : `${TASK_CANCELLED_DESCRIPTION}: ${detail}`);
    this.taskId = taskId;
    this.reason = reason;
  }
}

/** `start()` after `shutdown()` was called: the task manager accepts no more tasks. */
export class TaskManagerStoppedError extends PilotlightError {
  override name = 'TaskManagerStoppedError';
  constructor(message: string) {
    super(ErrorCodes.TASK_MANAGER_STOPPED, message);
  }
}
