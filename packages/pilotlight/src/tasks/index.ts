/** The public surface of the in-process task manager; `src/index.ts` re-exports it. */
export { createTaskManager, TaskManager } from './task-manager.ts';
export type { KeepFinishedOptions, TaskManagerOptions } from './manager-options.ts';
export { defineTask } from './define-task.ts';
export type { Task, TaskActivator, TaskClass, TaskDefinition, TaskType } from './define-task.ts';
export type { TaskContext } from './task-context.ts';
export { TaskStatuses } from './types.ts';
export type {
  ListTasksQuery,
  StartTaskOptions,
  TaskChange,
  TaskHandle,
  TaskListener,
  TaskProgress,
  TaskSnapshot,
  TaskStatus,
} from './types.ts';
export type { TaskTracingOptions } from './tracing-options.ts';
export { TaskCancelledError, TaskManagerStoppedError } from './errors.ts';
