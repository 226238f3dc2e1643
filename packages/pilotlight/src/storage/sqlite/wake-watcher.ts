import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Tells a process that another process committed to the same SQLite file, without polling:
 * every commit in WAL mode writes the `-wal` file, which the kernel reports through `fs.watch`.
 * `hasForeignWrites()` (backed by `PRAGMA data_version`, which moves only for other connections'
 * commits) separates other processes' writes from our own.
 */
export function watchForeignWrites(file: string, hasForeignWrites: () => boolean, onWrite: () => void): () => void {
  const walName = `${basename(file)}-wal`;
  let pending = false;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name !== walName || pending) return;
      // Several events arrive per commit; check once per turn of the event loop.
      pending = true;
      setImmediate(() => {
        pending = false;
        if (watcher && hasForeignWrites()) onWrite();
      });
    });
    watcher.on('error', () => undefined); // e.g. the directory went away: polling still works
  } catch {
    // Watching is an optimisation; workers fall back to polling.
  }
  return () => {
    watcher?.close();
    watcher = undefined;
  };
}
