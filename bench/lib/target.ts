import type { Store } from '../../packages/pilotlight/src/index.ts';

/**
 * What a benchmark runs against: one kind of store (SQLite now, PostgreSQL later). The scenarios in
 * `scenarios.ts` only see this interface, so another store's bench reuses them unchanged.
 */
export interface BenchTarget {
  /** Shown in the report title, e.g. `SQLite`. */
  readonly name: string;
  /**
   * URL of a module that exports `openStore` (see {@link OpenStore}); a child process imports it to
   * open the same database as the parent (the cross-process latency scenario).
   */
  readonly moduleUrl: string;
  /** A fresh, empty database for one scenario run. */
  createDatabase(): Promise<BenchDatabase>;
  /** Facts about the store to print with the machine (its version, its settings). */
  facts(): Promise<Record<string, string>>;
}

export interface BenchDatabase {
  /** The store of this process: the client and an in-process worker share it. */
  readonly store: Store;
  /** JSON-serializable; a child process passes it to the target module's `openStore()`. */
  readonly childConfig: unknown;
  /**
   * Fills the jobs table with `count` finished (Succeeded) jobs, as a long-running system has: the
   * "million finished jobs" scenario. Only stores whose bench runs that scenario provide it.
   */
  seedFinishedJobs?(count: number): Promise<void>;
  /** Closes this process's store and deletes the database. */
  destroy(): Promise<void>;
}

/** The export a target module gives child processes. */
export type OpenStore = (config: unknown) => Promise<Store>;
