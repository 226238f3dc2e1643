/** `pilotlight requeue ID...`: enqueue jobs again now (failed, deleted, succeeded or scheduled ones). */
import { stateChangeCommand } from './state-change.ts';

export const requeueCommand = stateChangeCommand({
  name: 'requeue',
  summary: 'enqueue jobs again now: failed, deleted, succeeded or scheduled ones',
  details: [
    'A job already Enqueued or Processing is left as it is, and so is one whose dedup key another',
    'unfinished job now holds. Exits 1 when an id names no job.',
    '',
    'Example: pilotlight requeue 41 42 --sqlite pilotlight.db',
  ].join('\n'),
  done: 'requeued',
  defaultReason: 'Requeued from the command line',
  already: ['Enqueued', 'Processing'],
  unchanged: 'another unfinished job holds its dedup key',
  change: (client, id, reason) => client.requeue(id, reason),
});
