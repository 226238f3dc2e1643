import type { TaskRecord } from './task-record.ts';

/**
 * Finished tasks kept for `get()` and `list()`: at most `count`, none finished more than `age` ms ago.
 * No timer: the age limit is applied whenever tasks are looked up or another one finishes.
 */
export class FinishedTasks {
  readonly #count: number;
  readonly #age: number;
  /** In finishing order: the first is the oldest. */
  readonly #tasks = new Set<TaskRecord>();

  constructor(limits: { readonly count: number; readonly age: number }) {
    this.#count = limits.count;
    this.#age = limits.age;
  }

  /** Adds a task that just finished; returns the tasks forgotten to make room, oldest first. */
  add(task: TaskRecord): TaskRecord[] {
    this.#tasks.add(task);
    return this.expire();
  }

  /** Forgets the tasks beyond the count or past the age; returns them, oldest first. */
  expire(now = Date.now()): TaskRecord[] {
    const removed: TaskRecord[] = [];
    for (const task of this.#tasks) {
      if (this.#tasks.size <= this.#count && now - task.finishedAt! <= this.#age) break;
      this.#tasks.delete(task);
      removed.push(task);
    }
    return removed;
  }
}
