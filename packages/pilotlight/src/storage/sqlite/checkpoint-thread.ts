/**
 * The checkpoint thread's program, as source text. The thread is started with `eval: true` from
 * this text rather than from a file: a bundled application (esbuild, webpack, rollup) has no
 * `checkpoint-thread.js` beside it, esbuild does not follow `new Worker(new URL(...))`, and a
 * CommonJS bundle has no `import.meta.url`. A string survives every bundler unchanged and can never
 * start the application itself a second time.
 *
 * PASSIVE checkpoints never wait for readers or writers: a busy moment is simply tried again at the
 * next interval. Errors (SQLITE_BUSY and friends) are ignored for the same reason.
 */
export const CHECKPOINT_THREAD_SOURCE = `
const { DatabaseSync } = require('node:sqlite');
const { workerData } = require('node:worker_threads');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
setInterval(() => {
  try {
    checkpoint.get();
  } catch {}
}, workerData.intervalMs);
`;
