import { DatabaseSync } from 'node:sqlite';
import { parentPort, Worker, workerData } from 'node:worker_threads';

/**
 * Runs WAL checkpoints on a thread of its own. A checkpoint copies the WAL back into the database and
 * fsyncs it; done by SQLite's auto-checkpoint, it would stall whichever commit crossed the threshold,
 * on the event loop. Here the event loop only ever appends to the WAL. The connection's
 * auto-checkpoint stays on, with a high threshold, as a safety net.
 */
const INTERVAL_MS = 100;

interface CheckpointerData {
  /** Marks this module's own thread (the module may also be loaded in a user's worker thread). */
  readonly pilotlightCheckpointer: true;
  readonly path: string;
  readonly busyTimeout: number;
}

/** Starts the checkpoint thread for the database at `path`; `stop()` ends it. */
export function startCheckpointer(path: string): { stop(): Promise<void> } {
  const thread = new Worker(new URL(import.meta.url), { workerData: { pilotlightCheckpointer: true, path, busyTimeout: 0 } satisfies CheckpointerData });
  thread.unref();
  thread.on('error', () => undefined); // checkpoints are an optimisation: auto-checkpoint still runs
  return {
    async stop() {
      await thread.terminate();
    },
  };
}

if (parentPort && (workerData as Partial<CheckpointerData> | undefined)?.pilotlightCheckpointer === true) {
  const { path, busyTimeout } = workerData as CheckpointerData;
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
  // PASSIVE never waits for readers or writers: a busy moment is simply tried again next time.
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  setInterval(() => {
    try {
      checkpoint.get();
    } catch {
      // SQLITE_BUSY and friends: next interval.
    }
  }, INTERVAL_MS);
}
