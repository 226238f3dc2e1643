import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * A writer appends to the `-wal` file before it publishes the commit in the `-shm` index, which
 * `fs.watch` does not report (it is memory-mapped): a check that runs in between misses that commit
 * and no further event comes. So every check is followed by checks after these delays (ms).
 */
const RECHECK_DELAYS = [10, 100] as const;

/**
 * Tells a process that another process committed to the same SQLite file, without polling:
 * every commit in WAL mode writes the `-wal` file, which the kernel reports through `fs.watch`.
 * `hasForeignWrites()` (backed by `PRAGMA data_version`, which moves only for other connections'
 * commits) separates other processes' writes from our own.
 */
export function watchForeignWrites(file: string, hasForeignWrites: () => boolean, onWrite: () => void): () => void {
  const walName = `${basename(file)}-wal`;
  let pending = false;
  let lastCheck = 0;
  let watcher: FSWatcher | undefined;
  let recheck: NodeJS.Timeout | undefined;

  const check = (attempt: number): void => {
    pending = false;
    lastCheck = performance.now();
    clearTimeout(recheck);
    recheck = undefined;
    if (!watcher) return;
    if (hasForeignWrites()) onWrite();
    const delay = RECHECK_DELAYS[attempt];
    if (delay !== undefined) recheck = setTimeout(check, delay, attempt + 1).unref();
  };

  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name !== walName || pending) return;
      // Several events arrive per commit, and a busy process's own commits fire them constantly:
      // check at once after a quiet spell (an idle worker waiting for work), at most once a ms otherwise.
      pending = true;
      if (performance.now() - lastCheck >= 1) setImmediate(check, 0);
      else setTimeout(check, 1, 0);
    });
    watcher.on('error', () => undefined); // e.g. the directory went away: polling still works
  } catch {
    // Watching is an optimisation; workers fall back to polling.
  }
  return () => {
    clearTimeout(recheck);
    watcher?.close();
    watcher = undefined;
  };
}
