/** `pilotlight recurring`: the recurring jobs, with their schedule and their next and last runs. */
import type { Command } from '../command.ts';
import { print, table } from '../format.ts';
import { formatAbsolute, formatRelative } from '../../html/format.ts';
import { jobName } from '../../html/elements.ts';
import { printJson, recurringJson } from '../records.ts';

export const recurringCommand: Command = {
  name: 'recurring',
  summary: 'list the recurring jobs: id, cron, time zone, next and last run',
  usage: '[--json]',
  details: 'Example: pilotlight recurring --sqlite pilotlight.db',
  options: {},
  json: true,
  positionals: false,
  prepare:
    ({ values }) =>
    async ({ client }) => {
      const recurring = await client.recurring.list();
      if (values.json === true) {
        printJson({ recurring: recurring.map(recurringJson) });
        return 0;
      }
      if (recurring.length === 0) {
        print('No recurring jobs.');
        return 0;
      }
      const now = new Date();
      print(
        table(
          [
            { header: 'ID' },
            { header: 'CRON' },
            { header: 'TIME ZONE' },
            { header: 'JOB' },
            { header: 'QUEUE' },
            { header: 'NEXT RUN' },
            { header: 'LAST RUN' },
            { header: 'LAST JOB' },
          ],
          recurring.map((job) => [
            job.id,
            job.cron,
            job.timeZone,
            jobName(job),
            job.queue,
            `${formatAbsolute(job.nextRunAt)} (${formatRelative(job.nextRunAt, now)})`,
            job.lastRunAt ? `${formatAbsolute(job.lastRunAt)} (${formatRelative(job.lastRunAt, now)})` : 'never',
            job.lastJobId ?? '',
          ]),
        ),
      );
      return 0;
    },
};
