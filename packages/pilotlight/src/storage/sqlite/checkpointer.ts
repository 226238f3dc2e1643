import { Worker } from 'node:worker_threads';
import { CHECKPOINT_THREAD_SOURCE } from './checkpoint-thread.ts';

/**
 * Runs WAL checkpoints on a thread of its own. A checkpoint copies the WAL back into the database and
 * fsyncs it; done by SQLite's auto-checkpoint, it would stall whichever commit crossed the threshold,
 * on the event loop. Here the event loop only ever appends to the WAL. The connection's
 * auto-checkpoint stays on, with a high threshold, as a safety net.
 */
const INTERVAL_MS = 100;

/** Starts the checkpoint thread for the database at `path`; `stop()` ends it. */
export function startCheckpointer(path: string): { stop(): Promise<void> } {
  const thread = new Worker(CHECKPOINT_THREAD_SOURCE, { eval: true, workerData: { path, intervalMs: INTERVAL_MS } });
  thread.unref();
  thread.on('error', () => undefined); // checkpoints are an optimisation: auto-checkpoint still runs
  return {
    async stop() {
      await thread.terminate();
    },
  };
}
