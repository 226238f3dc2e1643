/**
 * Child process of the flow-control bench (`bench/flow-control.ts`, parent side in `flow-child.ts`):
 * loads Pilotlight and the bench targets from the checkout named in argv (this repository, or a
 * worktree of the baseline revision), then runs `processUntilDone()` on request and answers with
 * its result. CPU time is this process's own.
 *
 * argv: <checkout root>
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FlowReply, FlowRequest, StoreName } from './flow-child.ts';
import { processUntilDone, type FlowLibrary } from './flow-scenarios.ts';
import type { BenchTarget } from './target.ts';

const checkout = process.argv[2];
if (!checkout || !process.send) {
  console.error('usage: fork(flow-bench-child.ts, [<checkout root>]) with an IPC channel');
  process.exit(2);
}
const send = (reply: FlowReply): void => {
  process.send!(reply);
};
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(checkout, path)).href)) as T;

// The checkout's own modules: its core, and its targets (which open that checkout's stores).
const lib = await load<FlowLibrary>('packages/pilotlight/src/index.ts');
const targets: Record<StoreName, BenchTarget> = {
  sqlite: (await load<{ sqliteTarget: BenchTarget }>('bench/lib/sqlite-target.ts')).sqliteTarget,
  postgres: (await load<{ postgresTarget: BenchTarget }>('bench/lib/postgres-target.ts')).postgresTarget,
};

let queue = Promise.resolve();
process.on('message', (request: FlowRequest) => {
  if (request.type === 'stop') {
    void queue.then(() => process.disconnect());
    return;
  }
  queue = queue.then(async () => {
    try {
      send({ type: 'result', id: request.id, result: await processUntilDone(lib, targets[request.store], request.run) });
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
});
send({ type: 'ready' });
