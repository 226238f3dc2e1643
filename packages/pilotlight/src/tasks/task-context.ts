/** What a running task receives besides its input. */
export interface TaskContext {
  /** The task's id (UUID v7). */
  readonly id: string;
  /** The task type: class name, `static taskType`, or `defineTask()` name. */
  readonly type: string;
  /** The human-readable name given to `start()`. */
  readonly name: string;
  /**
   * Aborted when the task is cancelled (`handle.cancel()`, `manager.cancel()`, or `shutdown()` after
   * its timeout); `signal.reason` is a `TaskCancelledError`. Pass it on to `fetch()`, streams and
   * timers, or check `signal.aborted` between steps. The task is Cancelled at once either way.
   */
  readonly signal: AbortSignal;
  /**
   * Records progress (a percentage, a count of items: any finite number) and an optional message,
   * readable at once through `get()`, `list()` and `subscribe()`, and on the task's span as throttled
   * `task.progress` events. Ignored once the task is finished or cancelled.
   */
  reportProgress(value: number, message?: string): void;
}
