import { describe, validateNonEmptyString } from '../validation/validate.ts';
import { ValidationError } from '../errors.ts';
import { TASK_DEFAULTS } from './defaults.ts';
import type { TaskContext } from './task-context.ts';

const TASK_DEFINITION = Symbol.for('pilotlight.taskDefinition');

/** What a task class's instances do: run once per `start()`, with the input given there. */
export interface Task<Input = unknown, Result = unknown> {
  run(input: Input, context: TaskContext): Result | Promise<Result>;
}

/**
 * A class whose instances are tasks (`class MetadataScanTask { async run(input, context) { ... } }`).
 * Its type name is `static taskType` when present (set it when code is minified), the class name
 * otherwise. The task manager creates an instance per run through its `activate` option, so a
 * dependency-injection container can provide it.
 */
export type TaskClass<Input = any, Result = any> = (abstract new (...args: never[]) => Task<Input, Result>) & {
  readonly taskType?: string;
};

/** A function task, made by `defineTask()`. */
export interface TaskDefinition<Input = any, Result = any> {
  readonly [TASK_DEFINITION]: true;
  /** The task's type name, in span names and snapshots. */
  readonly type: string;
  readonly run: (input: Input, context: TaskContext) => Result | Promise<Result>;
}

/** What `start()` accepts: a task class or a `defineTask()` definition. */
export type TaskType<Input = any, Result = any> = TaskClass<Input, Result> | TaskDefinition<Input, Result>;

/** Creates the instance of a task class for one run. @default `new TaskClass()` */
export type TaskActivator = (taskClass: TaskClass) => Task;

/**
 * Define a function task: a type name (low-cardinality: it names the spans) and what it runs.
 *
 * ```ts
 * const cleanup = defineTask('PersonCleanupTask', async (input: { dryRun: boolean }, context) => { ... });
 * manager.start(cleanup, { dryRun: false }, { name: 'Person metadata cleanup' });
 * ```
 */
export function defineTask<Input = void, Result = unknown>(
  type: string,
  run: (input: Input, context: TaskContext) => Result | Promise<Result>,
): TaskDefinition<Input, Result> {
  validateNonEmptyString(type, 'defineTask() type', TASK_DEFAULTS.maxNameLength);
  if (typeof run !== 'function') throw new ValidationError(`defineTask('${type}') run must be a function; received ${describe(run)}`);
  return Object.freeze({ [TASK_DEFINITION]: true as const, type, run });
}

export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return typeof value === 'object' && value !== null && TASK_DEFINITION in value;
}

/** The type name of a task class or definition; rejects anything else. */
export function taskTypeName(taskType: unknown, option: string): string {
  if (isTaskDefinition(taskType)) return taskType.type;
  if (typeof taskType !== 'function' || typeof (taskType.prototype as Partial<Task> | undefined)?.run !== 'function') {
    throw new ValidationError(
      `${option} must be a class with a run(input, context) method or a defineTask() definition; received ${describe(taskType)}`,
    );
  }
  const type = (taskType as TaskClass).taskType ?? taskType.name;
  if (typeof type !== 'string' || type.length === 0 || type.length > TASK_DEFAULTS.maxNameLength) {
    throw new ValidationError(
      `${option} needs a name: declare it as a named class or give it a static taskType; received ${describe(type)}`,
    );
  }
  return type;
}

/** The default activator: `new TaskClass()`. */
export const newTaskInstance: TaskActivator = (taskClass) => new (taskClass as unknown as new () => Task)();
