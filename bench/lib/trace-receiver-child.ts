/**
 * Child process of the traces bench (`bench/traces.ts`): a dashboard with a trace receiver, as a
 * deployment runs it, in a process of its own: `createDashboard({ store, traces: { store } })` on
 * node:http, port 0, with an idle SQLite job store and the trace store the parent names. Reports its
 * port, then answers the parent's requests over IPC: the spans stored, and the peaks of its RSS and
 * heap, sampled every 100 ms.
 *
 * argv: <TraceStoreConfig as JSON>
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createDashboard } from '../../packages/dashboard/src/index.ts';
import { createSqliteStore } from '../../packages/pilotlight/src/sqlite.ts';
import { silentLogger } from '../../packages/pilotlight/src/index.ts';
import type { MemoryPeaks, ReceiverReply, ReceiverRequest } from './trace-receiver.ts';
import { openTraceStore, type TraceStoreConfig } from './trace-stores.ts';

const config = JSON.parse(process.argv[2] ?? 'null') as TraceStoreConfig;
if (!process.send || config === null) {
  console.error('usage: fork(trace-receiver-child.ts, [JSON of a TraceStoreConfig]) with an IPC channel');
  process.exit(2);
}
const send = (reply: ReceiverReply): void => {
  process.send!(reply);
};

const SAMPLE_MS = 100;
let peaks = { rssBytes: 0, heapBytes: 0 };
let since = { cpu: process.cpuUsage(), wallMs: performance.now() };
const sample = (): void => {
  const { rss, heapUsed } = process.memoryUsage();
  peaks = { rssBytes: Math.max(peaks.rssBytes, rss), heapBytes: Math.max(peaks.heapBytes, heapUsed) };
};
const sampler = setInterval(sample, SAMPLE_MS);

const traces = await openTraceStore(config);
const traceStore = traces.store;
const jobStore = createSqliteStore({ path: join(config.dir, 'receiver-jobs.db') });
// The bench's spans are recent; retention keeps them all (maxSpans above anything it sends).
const dashboard = createDashboard({ store: jobStore, logger: silentLogger, traces: { store: traceStore, maxSpans: 100_000_000 } });
const server = createServer(dashboard);
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

process.on('message', (request: ReceiverRequest) => {
  void answer(request).catch((error: unknown) =>
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

async function answer(request: ReceiverRequest): Promise<void> {
  if (request.type === 'count') return send({ type: 'count', id: request.id, spans: await traceStore.countSpans() });
  if (request.type === 'memory') {
    sample();
    const cpu = process.cpuUsage(since.cpu);
    const now = performance.now();
    const measured: MemoryPeaks = { ...peaks, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: now - since.wallMs };
    const reply: ReceiverReply = { type: 'memory', id: request.id, peaks: measured };
    peaks = { rssBytes: 0, heapBytes: 0 };
    since = { cpu: process.cpuUsage(), wallMs: now };
    return send(reply);
  }
  clearInterval(sampler);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await dashboard.close();
  await traces.close();
  await jobStore.close();
  process.disconnect();
}

send({ type: 'ready', port: (server.address() as { port: number }).port });
