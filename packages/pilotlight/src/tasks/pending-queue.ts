import type { TaskRecord } from './task-record.ts';

/** One type's tasks in arrival order; `head` is the first still to look at (a cancelled task is skipped there). */
interface TypeQueue {
  items: TaskRecord[];
  head: number;
}

/**
 * Pending tasks, first in first out, one queue per type: `take()` returns the oldest task whose type
 * has a free slot, so a type at its limit never holds back the others. O(number of types) per take.
 */
export class PendingQueue {
  readonly #byType = new Map<string, TypeQueue>();
  /** The tasks queued now; a removed (cancelled) task leaves its queue lazily, when it reaches the head. */
  readonly #members = new Set<TaskRecord>();

  get size(): number {
    return this.#members.size;
  }

  add(task: TaskRecord): void {
    let queue = this.#byType.get(task.type);
    if (!queue) this.#byType.set(task.type, (queue = { items: [], head: 0 }));
    queue.items.push(task);
    this.#members.add(task);
  }

  remove(task: TaskRecord): boolean {
    return this.#members.delete(task);
  }

  /** Removes and returns the oldest task among the types `hasRoom` accepts. */
  take(hasRoom: (type: string) => boolean): TaskRecord | undefined {
    let oldest: TaskRecord | undefined;
    let oldestQueue: TypeQueue | undefined;
    for (const [type, queue] of this.#byType) {
      const head = this.#head(type, queue);
      if (head === undefined || !hasRoom(type)) continue;
      if (oldest === undefined || head.seq < oldest.seq) {
        oldest = head;
        oldestQueue = queue;
      }
    }
    if (oldest === undefined) return undefined;
    oldestQueue!.head++;
    this.#members.delete(oldest);
    return oldest;
  }

  /** Every pending task, oldest first. */
  all(): TaskRecord[] {
    return [...this.#members].sort((a, b) => a.seq - b.seq);
  }

  /** The first task of a type still queued, dropping removed ones; forgets an empty queue. */
  #head(type: string, queue: TypeQueue): TaskRecord | undefined {
    while (queue.head < queue.items.length && !this.#members.has(queue.items[queue.head]!)) queue.head++;
    if (queue.head === queue.items.length) {
      this.#byType.delete(type);
      return undefined;
    }
    if (queue.head >= 1_024 && queue.head * 2 >= queue.items.length) {
      queue.items = queue.items.slice(queue.head);
      queue.head = 0;
    }
    return queue.items[queue.head];
  }
}
