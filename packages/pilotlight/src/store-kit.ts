/**
 * `pilotlight/store-kit`: for authors of stores. The `Store` interface the engine talks to, the
 * records it reads and writes, and the helpers every Pilotlight store shares (the history format,
 * row mapping, listener set), so that a new store agrees with the others without copying them.
 * Prove a store with the contract suite in `pilotlight/testing`.
 */
export type {
  ClaimRequest,
  CountJobsFilter,
  CreateJobResult,
  FireRecurring,
  JobSearchPage,
  ListJobsQuery,
  MinuteOutcomes,
  NewJob,
  NewRecurringJob,
  QueueSettings,
  QueueSettingsChange,
  QueueStats,
  SearchJobsQuery,
  Store,
  StoreEvent,
  Transition,
  TransitionAndClaimResult,
} from './storage/store.ts';
export type {
  BatchAwait,
  ConcurrencyLimit,
  ErrorDetails,
  JobCall,
  JobProgress,
  JobRecord,
  MisfirePolicy,
  RateLimit,
  RecurringJobRecord,
  RetryOptions,
  ServerRecord,
  StateInput,
  StateName,
  StateRecord,
} from './types.ts';
export { FINISHED_STATES, JobStates } from './types.ts';
/** The errors a store throws: `StoreClosedError` after `close()`, `PilotlightError` with a code for the rest. */
export { ErrorCodes, JobNotFoundError, PilotlightError, StoreClosedError, ValidationError } from './errors.ts';
export type { PilotlightErrorCode } from './errors.ts';
export {
  debouncedJobExpiry,
  historyEntry,
  isPinned,
  jobFromRow,
  parseHistory,
  pinnedResult,
  readJobRow,
  recurringFromRow,
  retryJson,
  STORED_FLOW_COLUMNS,
  STORED_JOB_COLUMNS,
  StoreListeners,
  unreadableFailure,
  type JsonColumn,
  type ReadJobRow,
  type StoredJobRow,
  type StoredRecurringRow,
} from './storage/store-helpers.ts';
export { isStateName, UNREADABLE_ROW } from './storage/unreadable-rows.ts';
/** For another store on `node:sqlite`: loads it, or throws `UNSUPPORTED_RUNTIME` saying what to upgrade to. */
export { loadNodeSqlite, MINIMUM_NODE_VERSION, type NodeSqliteUser } from './storage/sqlite/node-sqlite.ts';
/** A transaction on a connection lent by a pool (`pg.Pool` and the like), typed by shape. */
export { inPooledTransaction, type PooledConnection } from './storage/pooled-transaction.ts';
/** For another store on `node:sqlite` in WAL mode: WAL checkpoints on a thread of their own, off the event loop. */
export { startCheckpointer } from './storage/sqlite/checkpointer.ts';
export { JobCountDeltas, type CountDelta, type DeltaRow } from './storage/count-deltas.ts';
export {
  emptyCounts,
  invalidCursor,
  minuteOf,
  OUTCOME_RETENTION_MS,
  QUERY_DEFAULTS,
  QUERY_LIMITS,
  resolveSearchJobsQuery,
  searchPage,
  TRANSIENT_STATES,
  TRANSIENT_WALK_ROWS,
  type ResolvedSearch,
  type ScannedRow,
  type SearchOutcome,
} from './storage/job-queries.ts';
