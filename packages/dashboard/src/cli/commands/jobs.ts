/**
 * `pilotlight jobs`: jobs newest first, filtered by state, queue, type or text, a page at a time:
 * the last line says what `--before` gives the next (older) page.
 */
import { JobStates, ValidationError, type JobRecord } from 'pilotlight';
import { QUERY_LIMITS } from 'pilotlight/store-kit';
import { LIMITS } from '../../config/defaults.ts';
import { choiceOption, integerOption, stringOption, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { dim, oneLine, print, stateStyle, table } from '../format.ts';
import { formatRelative } from '../../html/format.ts';
import { jobName } from '../../html/elements.ts';
import { jobJson, printJson } from '../records.ts';

const NAME = 'jobs';
/** A page as long as the dashboard's. */
const DEFAULT_LIMIT = LIMITS.pageSize;

export const jobsCommand: Command = {
  name: NAME,
  summary: 'list jobs, newest first, by state, queue, type or text, a page at a time',
  usage: '[--state S] [--queue Q] [--type T] [--search TEXT] [--limit N] [--before ID] [--json]',
  details: [
    'Pages are keyset pages: the last line gives the --before value of the next, older, page.',
    '--search matches the text in the job id, type and JSON arguments (case-sensitive); it examines',
    'a bounded number of jobs per call and says where to continue.',
    '',
    'Examples:',
    '  pilotlight jobs --sqlite pilotlight.db --state Failed',
    '  pilotlight jobs --sqlite pilotlight.db --queue emails --search ada@example.com --json',
  ].join('\n'),
  options: {
    state: { type: 'string', value: 'S', description: `only jobs in this state: ${Object.values(JobStates).join(', ')}` },
    queue: { type: 'string', value: 'Q', description: 'only jobs of this queue' },
    type: { type: 'string', value: 'T', description: 'only jobs of this type (a defineJob name or a class)' },
    search: { type: 'string', value: 'TEXT', description: 'only jobs whose id, type or arguments contain TEXT' },
    limit: {
      type: 'string',
      value: 'N',
      description: `at most N jobs, 1 to ${QUERY_LIMITS.listLimit} (${QUERY_LIMITS.searchLimit} with --search; default: ${DEFAULT_LIMIT})`,
    },
    before: { type: 'string', value: 'ID', description: 'only jobs older than job ID: the next page' },
  },
  json: true,
  positionals: false,
  prepare({ values }) {
    const search = stringOption(NAME, values, 'search');
    const filter = {
      state: choiceOption(NAME, values, 'state', Object.values(JobStates)),
      queue: stringOption(NAME, values, 'queue'),
      type: stringOption(NAME, values, 'type'),
      before: stringOption(NAME, values, 'before'),
      limit: integerOption(
        NAME,
        values,
        'limit',
        1,
        search === undefined ? QUERY_LIMITS.listLimit : QUERY_LIMITS.searchLimit,
        DEFAULT_LIMIT,
      ),
    };
    return async ({ client }) => {
      const page = await (
        search === undefined
          ? client.listJobs(filter).then((jobs) => ({ jobs, next: jobs.length === filter.limit ? jobs.at(-1)!.id : undefined }))
          : client.searchJobs({ ...filter, text: search })
      ).catch((error: unknown) => {
        // The one input only the store can check: whether --before names a job id of its kind.
        if (error instanceof ValidationError && filter.before !== undefined && /\bbefore\b/.test(error.message)) {
          throw usageError(NAME, `--before must be a job id (the last id of the previous page); received '${filter.before}'`);
        }
        throw error;
      });
      if (values.json === true) printJson({ jobs: page.jobs.map(jobJson), next: page.next ?? null });
      else printPage(page.jobs, page.next, search !== undefined);
      return 0;
    };
  },
};

function printPage(jobs: readonly JobRecord[], next: string | undefined, searching: boolean): void {
  const now = new Date();
  if (jobs.length > 0) {
    print(
      table(
        [
          { header: 'ID', align: 'right' },
          { header: 'STATE', style: stateStyle },
          { header: 'JOB' },
          { header: 'QUEUE' },
          { header: 'ATTEMPT', align: 'right' },
          { header: 'CREATED' },
          { header: 'CHANGED' },
          { header: 'REASON' },
        ],
        jobs.map((job) => [
          job.id,
          job.state,
          jobName(job),
          job.queue,
          String(job.attempt),
          formatRelative(job.createdAt, now),
          formatRelative(job.stateChangedAt, now),
          oneLine(job.stateReason, 60),
        ]),
      ),
    );
  } else {
    print(searching && next !== undefined ? 'No match among the jobs examined.' : 'No jobs.');
  }
  if (next !== undefined) print(dim(`Next page: --before ${next}`));
}
