/**
 * Where the demo's processes find each other: all four read the same environment, which the demo
 * runner (`main.ts`) sets for its children. Each process can also be started alone with these set.
 */
import { join } from 'node:path';

export interface ExampleConfig {
  /** Folder holding the two SQLite files: the job store and the application's own database. */
  readonly dataDir: string;
  /** Pilotlight's store, shared by the API (enqueues) and the worker (runs the jobs). */
  readonly jobsDbPath: string;
  /** The application's tables (tenants, settings, audit log, sessions): plain node:sqlite. */
  readonly appDbPath: string;
  /** The spans the dashboard receives over OTLP (its trace store, a file of its own). */
  readonly tracesDbPath: string;
  /** Port the dashboard listens on (OTLP included); 0 picks a free one. */
  readonly dashboardPort: number;
  /** Port the API listens on; 0 picks a free one. */
  readonly apiPort: number;
  /** Port the stub service listens on; 0 picks a free one. */
  readonly stubPort: number;
  /** Base URL of the stub storage/mail service the jobs call. */
  readonly stubUrl: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const dataDir = env.TENANTS_DATA_DIR ?? join(import.meta.dirname, '..', '.data');
  return {
    dataDir,
    jobsDbPath: join(dataDir, 'jobs.db'),
    appDbPath: join(dataDir, 'app.db'),
    tracesDbPath: join(dataDir, 'traces.db'),
    dashboardPort: port(env.TENANTS_DASHBOARD_PORT, 'TENANTS_DASHBOARD_PORT', 4680),
    apiPort: port(env.TENANTS_API_PORT, 'TENANTS_API_PORT', 3000),
    stubPort: port(env.TENANTS_STUB_PORT, 'TENANTS_STUB_PORT', 3001),
    stubUrl: env.TENANTS_STUB_URL ?? `http://127.0.0.1:${env.TENANTS_STUB_PORT ?? 3001}`,
  };
}

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`${name} must be a port number (0-65535); received '${value}'`);
  return n;
}

/** Tells the demo runner (when it started this process with an IPC channel) that we are ready. */
export function announceReady(message: Record<string, unknown>): void {
  process.send?.({ type: 'ready', ...message });
}

/**
 * Stops the process gracefully on SIGTERM/SIGINT: runs `stop` (close servers, drain the worker,
 * flush telemetry), then exits. A second signal exits at once.
 */
export function onShutdown(name: string, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`[${name}] shutdown after ${signal} failed:`, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
