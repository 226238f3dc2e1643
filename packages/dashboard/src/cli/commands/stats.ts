/** `pilotlight stats`: jobs per state, per queue (with the oldest waiting job's age), workers alive. */
import type { StateName } from 'pilotlight';
import type { Command, StoreContext } from '../command.ts';
import { heading, print, stateStyle, table } from '../format.ts';
import { formatAbsolute, formatAge, formatRelative } from '../../html/format.ts';
import { printJson, serverJson } from '../records.ts';
import { isAlive, STATE_NAMES } from '../../data/overview.ts';

export const statsCommand: Command = {
  name: 'stats',
  summary: 'jobs per state, per queue (with the oldest waiting job), and the workers alive',
  usage: '[--sqlite FILE | --postgres URL] [--json]',
  details: [
    'Counts come from counters the store keeps with every write: as fast with a million jobs as with ten.',
    "A queue's 'oldest waiting' is how long its oldest Enqueued job has been due; a worker is alive when",
    'it sent a heartbeat in the last 60 s.',
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
  const [counts, queues, servers] = await Promise.all([client.countJobs(), client.queueStats(), store.listServers()]);
  const now = new Date();
  const sortedQueues = [...queues].sort((a, b) => a.queue.localeCompare(b.queue));
  const alive = servers.filter((server) => isAlive(server.heartbeatAt, now));
  if (json) {
    printJson({
      states: countsJson(counts),
      total: total(counts),
      queues: sortedQueues.map((queue) => ({
        queue: queue.queue,
        counts: countsJson(queue.counts),
        oldestEnqueuedAt: queue.oldestEnqueuedAt?.toISOString() ?? null,
        oldestWaitingMs: queue.oldestEnqueuedAt ? Math.max(0, now.getTime() - queue.oldestEnqueuedAt.getTime()) : null,
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
  if (sortedQueues.length > 0) {
    print(
      table(
        [
          { header: 'QUEUE' },
          ...STATE_NAMES.map((state) => ({ header: state.toUpperCase(), align: 'right' as const })),
          { header: 'OLDEST WAITING' },
        ],
        sortedQueues.map((queue) => [
          queue.queue,
          ...STATE_NAMES.map((state) => String(queue.counts[state] ?? 0)),
          queue.oldestEnqueuedAt ? formatAge(queue.oldestEnqueuedAt, now) : '',
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

function countsJson(counts: Record<StateName, number>): Record<StateName, number> {
  return Object.fromEntries(STATE_NAMES.map((state) => [state, counts[state] ?? 0])) as Record<StateName, number>;
}

function total(counts: Record<StateName, number>): number {
  return STATE_NAMES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}
