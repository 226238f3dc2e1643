/** `pilotlight delete ID...`: delete jobs, which then never run (again); a running one is aborted. */
import { stateChangeCommand } from './state-change.ts';

export const deleteCommand = stateChangeCommand({
  name: 'delete',
  summary: "delete jobs: they will not run (again); a running job's signal aborts",
  details: [
    'A job already Deleted is left as it is. The jobs stay readable (pilotlight job ID) until their',
    'retention runs out. Exits 1 when an id names no job.',
    '',
    'Example: pilotlight delete 41 42 --sqlite pilotlight.db',
  ].join('\n'),
  done: 'deleted',
  defaultReason: 'Deleted from the command line',
  already: ['Deleted'],
  unchanged: 'it kept changing state meanwhile; try again',
  change: (client, id, reason) => client.delete(id, reason),
});
