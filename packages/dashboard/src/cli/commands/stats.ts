/** `pilotlight stats`: jobs per state, per queue (the oldest waiting job's age, its flow control), workers alive. */
import type { StateName } from 'pilotlight';
import type { Command, StoreContext } from '../command.ts';
import { heading, print, stateStyle, table } from '../format.ts';
import { formatAbsolute, formatAge, formatConcurrencyLimit, formatRateLimit, formatRelative } from '../../html/format.ts';
import { printJson, serverJson } from '../records.ts';
import { isAlive, STATE_NAMES } from '../../data/overview.ts';
import { queuesWithSettings, type QueueWithSettings } from '../../data/queue-rows.ts';

export const statsCommand: Command = {
  name: 'stats',
  summary: 'jobs per state, per queue (with the oldest waiting job and its flow control), and the workers alive',
  usage: '[--sqlite FILE | --postgres URL] [--json]',
  details: [
    'Counts come from counters the store keeps with every write: as fast with a million jobs as with ten.',
    "A queue's 'oldest waiting' is how long its oldest Enqueued job has been due; a worker is alive when",
    'it sent a heartbeat in the last 60 s. A queue that is paused or limited (client.queues) is listed, with',
    'its settings, even without a job.',
    '',
    'Example: pilotlight stats --sqlite pilotlight.db',
  ].join('\n'),
  options: {},
  json: true,
  positionals: false,
  prepare:
    ({ values }) =>
    (context) =>
      stats(context, values.json === true),
};

async function stats({ client, store }: StoreContext, json: boolean): Promise<number> {
  const [counts, stats, settings, servers] = await Promise.all([
    client.countJobs(),
    client.queueStats(),
    client.queues.list(),
    store.listServers(),
  ]);
  const now = new Date();
  const queues = queuesWithSettings(stats, settings);
  const alive = servers.filter((server) => isAlive(server.heartbeatAt, now));
  if (json) {
    printJson({
      states: countsJson(counts),
      total: total(counts),
      queues: queues.map((queue) => ({
        queue: queue.queue,
        counts: countsJson(queue.counts),
        oldestEnqueuedAt: queue.oldestEnqueuedAt?.toISOString() ?? null,
        oldestWaitingMs: queue.oldestEnqueuedAt ? Math.max(0, now.getTime() - queue.oldestEnqueuedAt.getTime()) : null,
        paused: queue.paused,
        concurrencyLimit: queue.concurrencyLimit,
        rateLimit: queue.rateLimit,
      })),
      workers: { alive: alive.length, servers: servers.map((server) => serverJson(server, isAlive(server.heartbeatAt, now))) },
    });
    return 0;
  }
  print(heading(`Jobs: ${total(counts)}`));
  print(
    table(
      [
        { header: 'STATE', style: stateStyle },
        { header: 'COUNT', align: 'right' },
      ],
      STATE_NAMES.map((state) => [state, String(counts[state] ?? 0)]),
      '  ',
    ),
  );
  print();
  print(heading(`Queues: ${queues.length}`));
  if (queues.length > 0) {
    print(
      table(
        [
          { header: 'QUEUE' },
          ...STATE_NAMES.map((state) => ({ header: state.toUpperCase(), align: 'right' as const })),
          { header: 'OLDEST WAITING' },
          { header: 'FLOW CONTROL' },
        ],
        queues.map((queue) => [
          queue.queue,
          ...STATE_NAMES.map((state) => String(queue.counts[state] ?? 0)),
          queue.oldestEnqueuedAt ? formatAge(queue.oldestEnqueuedAt, now) : '',
          flowControlText(queue),
        ]),
        '  ',
      ),
    );
  }
  print();
  print(heading(`Workers: ${alive.length} alive`) + (servers.length > alive.length ? ` (${servers.length - alive.length} silent)` : ''));
  if (servers.length > 0) {
    print(
      table(
        [
          { header: 'NAME' },
          { header: 'QUEUES' },
          { header: 'CONCURRENCY', align: 'right' },
          { header: 'STARTED' },
          { header: 'LAST HEARTBEAT' },
        ],
        servers.map((server) => [
          server.name,
          server.queues.join(','),
          String(server.concurrency),
          formatAbsolute(server.startedAt),
          formatRelative(server.heartbeatAt, now),
        ]),
        '  ',
      ),
    );
  }
  return 0;
}

/** `paused, at most 3 at once, 10 per 500 ms`, as the dashboard's queue tables say it; empty when nothing limits the queue. */
function flowControlText(queue: QueueWithSettings): string {
  return [
    queue.paused ? 'paused' : undefined,
    queue.concurrencyLimit === null ? undefined : formatConcurrencyLimit(queue.concurrencyLimit),
    queue.rateLimit === null ? undefined : formatRateLimit(queue.rateLimit),
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}

function countsJson(counts: Record<StateName, number>): Record<StateName, number> {
  return Object.fromEntries(STATE_NAMES.map((state) => [state, counts[state] ?? 0])) as Record<StateName, number>;
}

function total(counts: Record<StateName, number>): number {
  return STATE_NAMES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}
