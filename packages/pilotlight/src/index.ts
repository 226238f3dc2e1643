/**
 * `pilotlight`: what an application uses. Clients and workers, job and task definitions, filters,
 * the records they read back, errors and the task manager. Store authors import
 * `pilotlight/store-kit`, store tests `pilotlight/testing`, the telemetry names `pilotlight/semconv`.
 */
export { createClient, Client } from './client/client.ts';
export type { ClientOptions, EnqueueOptions, ScheduleOptions, JobView } from './client/client.ts';
export type { RecurringJobs, RecurringOptions } from './client/recurring-jobs.ts';
export type { QueueControl, QueueSettingsView } from './client/queues.ts';
export type {
  BatchClassJob,
  BatchCreated,
  BatchEntry,
  BatchFunctionJob,
  BatchJob,
  BatchJobOptions,
  BatchOptions,
  BatchView,
  ContinueWhenAllOptions,
} from './client/batches.ts';
export { createWorker, Worker } from './server/worker.ts';
export type { WorkerStats } from './server/worker.ts';
export type { WorkerOptions } from './server/worker-options.ts';
export type { JobActivator } from './server/job-registry.ts';
export { defineJob, jobDisplayName } from './jobs/define-job.ts';
export type {
  ClassKey,
  ConcurrencyOption,
  DebounceOption,
  FlowControlOptions,
  JobClass,
  JobDefinition,
  JobDefinitionOptions,
  JobMethodArgs,
  JobMethodName,
  JobOptions,
  KeyOf,
  RateLimitOption,
} from './jobs/define-job.ts';
export type { JobContext } from './jobs/job-context.ts';
export type {
  ApplyStateContext,
  CreatedContext,
  CreatingContext,
  ElectStateContext,
  FilterContext,
  JobFilter,
  PendingJob,
  PerformedContext,
  PerformingContext,
} from './filters/filter.ts';
export { retryDelay } from './states/retry-filter.ts';
export { JobStates, FINISHED_STATES } from './types.ts';
export type {
  BatchAwait,
  ConcurrencyLimit,
  ErrorDetails,
  JobCall,
  JobProgress,
  JobRecord,
  MisfirePolicy,
  Parenting,
  RateLimit,
  RecurringJobRecord,
  RetryOptions,
  ServerRecord,
  StoredRetryOptions,
  StateInput,
  StateName,
  StateRecord,
} from './types.ts';
export type { RetentionOptions } from './config/resolve.ts';
export type { TracedJob, TracePhase, TracingOptions } from './telemetry/tracing-options.ts';
export type { MetricsOptions } from './telemetry/metrics-options.ts';
export { isWorkerAlive, readStoreFigures } from './telemetry/store-figures.ts';
export type { QueueFigures, StoreFigures } from './telemetry/store-figures.ts';
export {
  ErrorCodes,
  JobCancelledError,
  JobNotFoundError,
  JobNotRegisteredError,
  JobTimeoutError,
  PilotlightError,
  StoreClosedError,
  StoreFullError,
  UnrecoverableError,
  ValidationError,
} from './errors.ts';
export type { JobCancelReason, PilotlightErrorCode } from './errors.ts';
export type { Logger } from './util/logger.ts';
export { consoleLogger, silentLogger } from './util/logger.ts';
export type {
  CountJobsFilter,
  JobSearchPage,
  ListJobsQuery,
  MinuteOutcomes,
  QueueSettings,
  QueueStats,
  SearchJobsQuery,
  Store,
} from './storage/store.ts';
export { createTaskManager, defineTask, TaskCancelledError, TaskManager, TaskManagerStoppedError, TaskStatuses } from './tasks/index.ts';
export type {
  KeepFinishedOptions,
  ListTasksQuery,
  StartTaskOptions,
  Task,
  TaskActivator,
  TaskChange,
  TaskClass,
  TaskContext,
  TaskDefinition,
  TaskHandle,
  TaskListener,
  TaskManagerOptions,
  TaskProgress,
  TaskSnapshot,
  TaskStatus,
  TaskTracingOptions,
  TaskType,
} from './tasks/index.ts';
