/**
 * `pilotlight job ID`: one job (with its flow control and batch), its arguments, result and metadata,
 * and its history oldest first, with each state's reason and each failed attempt's exception (type,
 * message, stack).
 */
import type { ErrorDetails, JobRecord, StateRecord } from 'pilotlight';
import { usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { heading, print, stateText, table } from '../format.ts';
import { formatAbsolute, formatConcurrencyLimit, formatRateLimit, formatRelative } from '../../html/format.ts';
import { jobName } from '../../html/elements.ts';
import { awaitsText } from '../../pages/batch.ts';
import { jobJson, parsedArgs, parsedResult, printJson, stateJson } from '../records.ts';

const NAME = 'job';

export const jobCommand: Command = {
  name: NAME,
  summary: "one job: its fields, flow control, arguments, result, metadata and history (each failed attempt's exception)",
  usage: 'ID [--json]',
  details: ['Exits 1 when there is no job ID.', '', 'Example: pilotlight job 42 --sqlite pilotlight.db'].join('\n'),
  options: {},
  json: true,
  positionals: true,
  prepare({ values, positionals }) {
    if (positionals.length !== 1) {
      throw usageError(NAME, `give exactly one job id; received ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    }
    const id = positionals[0]!;
    return async ({ store }) => {
      const job = await store.getJob(id);
      if (!job) {
        if (values.json === true) printJson({ job: null, history: [] });
        process.stderr.write(`pilotlight job: there is no job ${id}\n`);
        return 1;
      }
      const history = await store.getHistory(id);
      if (values.json === true) printJson({ job: jobJson(job), history: history.map(stateJson) });
      else printJob(job, history);
      return 0;
    };
  },
};

function printJob(job: JobRecord, history: readonly StateRecord[]): void {
  const now = new Date();
  print(`${heading(`Job ${job.id}`)}  ${stateText(job.state)}${job.stateReason ? `  ${job.stateReason}` : ''}`);
  const fields: [string, string | undefined][] = [
    ['job', jobName(job)],
    ['queue', job.queue],
    ['priority', String(job.priority)],
    ['attempt', `${job.attempt} (${job.retryCount} ${job.retryCount === 1 ? 'retry' : 'retries'})`],
    ['created', `${formatAbsolute(job.createdAt)}  (${formatRelative(job.createdAt, now)})`],
    ['state since', `${formatAbsolute(job.stateChangedAt)}  (${formatRelative(job.stateChangedAt, now)})`],
    ['due', `${formatAbsolute(job.runAt)}  (${formatRelative(job.runAt, now)})`],
    ['parent', job.parentId],
    ['continuations', job.hasContinuations ? 'yes' : undefined],
    ['dedup key', job.dedupKey],
    ['recurring', job.recurringId],
    ['worker', job.serverName],
    ['lease until', job.leaseUntil && formatAbsolute(job.leaseUntil)],
    ['progress', job.progress && `${job.progress.value}${job.progress.message ? `  ${job.progress.message}` : ''}`],
    ['concurrency', job.concurrency && `${job.concurrency.key}  (${formatConcurrencyLimit(job.concurrency.limit)})`],
    ['rate limit', job.rateLimit && `${job.rateLimit.key}  (${formatRateLimit(job.rateLimit)})`],
    ['debounce key', job.debounceKey],
    ['batch', job.batchId],
    ['awaits batch', job.awaitsBatch && `${job.awaitsBatch.batchId}  (${awaitsText(job.awaitsBatch.when)})`],
  ];
  const shown = fields.filter((field): field is [string, string] => field[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  for (const [label, value] of shown) print(`  ${label.padEnd(width)}  ${value}`);

  print();
  print(heading('Arguments'));
  const args = parsedArgs(job);
  print(indent(args === undefined ? `(not a JSON array, the job fails when run) ${job.argsJson}` : JSON.stringify(args, null, 2)));

  // As the dashboard's job page: a succeeded job's result, or that it returned nothing.
  if (job.resultJson !== undefined || job.state === 'Succeeded') {
    print();
    print(heading('Result'));
    print(indent(job.resultJson === undefined ? '(its handler returned nothing)' : JSON.stringify(parsedResult(job), null, 2)));
  }

  const metadata = Object.entries(job.metadata);
  if (metadata.length > 0) {
    print();
    print(heading('Metadata'));
    print(
      table(
        [{ header: 'KEY' }, { header: 'VALUE' }],
        metadata.map(([key, value]) => [key, value]),
        '  ',
      ),
    );
  }

  print();
  print(heading('History (oldest first)'));
  for (const state of history) {
    const details = [
      state.reason,
      state.attempt !== undefined ? `attempt ${state.attempt}` : undefined,
      state.serverName !== undefined ? `on ${state.serverName}` : undefined,
      state.name === 'Scheduled' && state.runAt ? `due ${formatAbsolute(state.runAt)}` : undefined,
    ].filter((detail) => detail !== undefined);
    print(`  ${formatAbsolute(state.at)}  ${stateText(state.name)}${details.length > 0 ? `  ${details.join(', ')}` : ''}`);
    if (state.error) {
      print(indent(`${state.error.type}: ${state.error.message}`, '      '));
      const frames = stackFrames(state.error);
      if (frames !== undefined) print(indent(frames, '      '));
    }
  }
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((line) => by + line)
    .join('\n');
}

/** The stack without its first lines when they repeat the message (`Error: message`), printed above it. */
function stackFrames({ message, stack }: ErrorDetails): string | undefined {
  if (stack === undefined) return undefined;
  const at = message === '' ? -1 : stack.indexOf(message);
  const frames = at === -1 ? stack : stack.slice(at + message.length).replace(/^\r?\n/, '');
  return frames.trim() === '' ? undefined : frames;
}
