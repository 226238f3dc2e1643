import { JobNotRegisteredError, ValidationError } from '../errors.ts';
import { isJobDefinition, jobClassType, type JobClass, type JobDefinition } from '../jobs/define-job.ts';
import type { JobContext } from '../jobs/job-context.ts';
import { resolveFlowControl, type FlowControl } from '../jobs/flow-control.ts';
import type { JobCall, JobRecord } from '../types.ts';
import { describe } from '../validation/validate.ts';

/** Creates the instance a class-based job runs on; plug a DI container in here. */
export type JobActivator = (jobClass: JobClass) => unknown;

export type JobInvoker = (args: unknown[], context: JobContext) => unknown;

/** The jobs a worker knows, by type, and how to call them. */
export class JobRegistry {
  readonly #functions = new Map<string, JobDefinition<any, any>>();
  readonly #classes = new Map<string, JobClass>();
  readonly #activate: JobActivator;

  constructor(jobs: readonly (JobDefinition<any, any> | JobClass<any>)[], activate: JobActivator) {
    this.#activate = activate;
    if (!Array.isArray(jobs))
      throw new ValidationError(`createWorker() options.jobs must be an array of job definitions or classes; received ${describe(jobs)}`);
    for (const job of jobs) {
      if (isJobDefinition(job)) this.#add(this.#functions, job.type, job);
      else if (typeof job === 'function') this.#add(this.#classes, jobClassType(job), job);
      else throw new ValidationError(`createWorker() options.jobs must hold job definitions or classes; received ${describe(job)}`);
    }
  }

  get types(): string[] {
    return [...this.#functions.keys(), ...this.#classes.keys()];
  }

  /** The function that runs `job`. A type this worker does not know throws a `JobNotRegisteredError`, and so does the function for a method it does not know. */
  resolve(job: JobRecord): JobInvoker {
    if (job.method === '') {
      const definition = this.#functions.get(job.type);
      if (!definition) {
        throw new JobNotRegisteredError(
          job.type,
          '',
          `No job named '${job.type}' is registered on this worker: add its definition to createWorker() options.jobs`,
        );
      }
      return (args, context) => definition.handler(args[0], context);
    }
    const jobClass = this.#classes.get(job.type);
    if (!jobClass) {
      throw new JobNotRegisteredError(
        job.type,
        job.method,
        `No job class '${job.type}' is registered on this worker: add the class to createWorker() options.jobs`,
      );
    }
    return (args, context) => {
      const instance = this.#activate(jobClass) as Record<string, unknown>;
      const method = instance?.[job.method];
      if (typeof method !== 'function') {
        throw new JobNotRegisteredError(
          job.type,
          job.method,
          `Job class '${job.type}' has no method '${job.method}' on this worker: deploy a version of the class that has it, or delete the job`,
        );
      }
      return method.apply(instance, [...args, context]);
    };
  }

  /**
   * The flow control the definition of `call` gives a job with its arguments (for a recurring job's
   * occurrence); none for a job this worker does not know or arguments that are not a JSON array.
   */
  flowControl(call: JobCall): FlowControl {
    const job = call.method === '' ? this.#functions.get(call.type) : this.#classes.get(call.type);
    if (!job) return {};
    let args: unknown;
    try {
      args = JSON.parse(call.argsJson);
    } catch {
      return {};
    }
    return Array.isArray(args) ? resolveFlowControl(job, call.type, call.method, args, {}, 'recurring occurrence') : {};
  }

  #add<T>(map: Map<string, T>, type: string, job: T): void {
    if (map.has(type) && map.get(type) !== job) throw new ValidationError(`createWorker() options.jobs has two jobs of type '${type}'`);
    map.set(type, job);
  }
}
