#!/usr/bin/env node
/**
 * The `pilotlight` command: `pilotlight <command> [options]` (`pilotlight --help` lists them).
 *
 * Exit codes: 0 done; 1 the command ran but something was not found, or the store failed;
 * 2 a mistake in the command line or a store that cannot be opened as given. Mistakes and store
 * failures print their message alone; only an unexpected error prints its stack.
 */
import { readFileSync } from 'node:fs';
import { createClient, ErrorCodes, PilotlightError, ValidationError } from 'pilotlight';
import { parseCommandArgs } from './args.ts';
import { allOptions, commandHelp, mainHelp, type Command } from './command.ts';
import { dashboardCommand } from './commands/dashboard.ts';
import { deleteCommand } from './commands/delete.ts';
import { jobCommand } from './commands/job.ts';
import { jobsCommand } from './commands/jobs.ts';
import { recurringCommand } from './commands/recurring.ts';
import { requeueCommand } from './commands/requeue.ts';
import { statsCommand } from './commands/stats.ts';
import { errorMessage, openStore, storeChoice } from './store.ts';

const COMMANDS: readonly Command[] = [
  dashboardCommand,
  statsCommand,
  jobsCommand,
  jobCommand,
  requeueCommand,
  deleteCommand,
  recurringCommand,
];

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(mainHelp(COMMANDS));
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp(COMMANDS));
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${manifest.version}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    throw new ValidationError(
      `unknown command '${name}': the commands are ${COMMANDS.map((candidate) => candidate.name).join(', ')}.\nRun 'pilotlight --help' for what each does.`,
    );
  }
  const args = parseCommandArgs(command.name, rest, allOptions(command), command.positionals);
  if (args.values.help === true) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const run = command.prepare(args);
  const choice = storeChoice(command.name, args.values);
  const store = await openStore(choice);
  try {
    return await run({ store, client: createClient({ store }), choice });
  } finally {
    await store.close();
  }
}

/** Prints why the command failed and returns its exit code. */
function report(error: unknown): number {
  if (error instanceof PilotlightError) {
    process.stderr.write(`pilotlight: ${error.message}\n`);
    return error.code === ErrorCodes.VALIDATION ? 2 : 1;
  }
  // A system or database error (a connection lost, a file that is not a database) carries a code:
  // its message says what happened; a stack would say nothing more to an operator.
  if (typeof (error as { code?: unknown } | undefined)?.code === 'string') {
    process.stderr.write(`pilotlight: ${errorMessage(error)}\n`);
    return 1;
  }
  process.stderr.write(`pilotlight: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

// A reader that stops early (`pilotlight jobs | head`) closes the pipe: the rest of the output has
// nowhere to go, which is no failure of the command (as for other command-line tools).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

process.exitCode = await main(process.argv.slice(2)).catch(report);
