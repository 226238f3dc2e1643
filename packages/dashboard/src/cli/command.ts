/**
 * What a command is: its name, its help, its options, and how it runs. `prepare` checks the
 * arguments before anything is opened (a typo never touches the store) and returns what runs once
 * the store is open; it resolves to the process's exit code.
 */
import type { Client, Store } from 'pilotlight';
import { commandName, type OptionSpecs, type ParsedArgs } from './args.ts';
import { STORE_OPTIONS, type StoreChoice } from './store.ts';

export interface StoreContext {
  readonly store: Store<unknown>;
  /** A client on `store`: state changes made through it are traced and go through filters. */
  readonly client: Client<unknown>;
  /** Which store it is (`pilotlight dashboard` keeps its traces beside it). */
  readonly choice: StoreChoice;
}

export type CommandRun = (context: StoreContext) => Promise<number>;

export interface Command {
  readonly name: string;
  /** One line, for `pilotlight --help`. */
  readonly summary: string;
  /** What follows the name in the usage line: `[options]`, `ID... [options]`. */
  readonly usage: string;
  /** What the command prints, examples: the end of its `--help`. */
  readonly details: string;
  /** Its own options; the store options, `--help` (and `--json` when `json`) are added. */
  readonly options: OptionSpecs;
  /** Takes `--json` (one JSON document on stdout). */
  readonly json: boolean;
  /** Takes positional arguments (job ids). */
  readonly positionals: boolean;
  prepare(args: ParsedArgs): CommandRun;
}

const JSON_OPTION: OptionSpecs = {
  json: { type: 'boolean', description: 'print one JSON document (stable keys, ISO dates) instead of tables' },
};
const HELP_OPTION: OptionSpecs = { help: { type: 'boolean', description: 'show this help' } };

/** Every option `command` accepts. */
export function allOptions(command: Command): OptionSpecs {
  return { ...command.options, ...STORE_OPTIONS, ...(command.json ? JSON_OPTION : {}), ...HELP_OPTION };
}

/** The `--help` text of one command. */
export function commandHelp(command: Command): string {
  return [
    `Usage: ${commandName(command.name)} ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...optionLines({ ...command.options, ...(command.json ? JSON_OPTION : {}), ...HELP_OPTION }),
    '',
    'Store:',
    ...optionLines(STORE_OPTIONS),
    '',
    command.details,
    '',
  ].join('\n');
}

/** `pilotlight --help`. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'Usage: pilotlight <command> [options]',
    '',
    "Pilotlight's jobs from the terminal: the dashboard, counts, jobs and their history, requeue and delete.",
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Store (every command):',
    ...optionLines(STORE_OPTIONS),
    '',
    "Run 'pilotlight <command> --help' for a command's options; 'pilotlight --version' for the version.",
    '',
  ].join('\n');
}

function optionLines(options: OptionSpecs): string[] {
  const labels = Object.entries(options).map(([name, spec]) => (spec.value ? `--${name} ${spec.value}` : `--${name}`));
  const width = Math.max(...labels.map((label) => label.length));
  return Object.values(options).map((spec, index) => `  ${labels[index]!.padEnd(width)}  ${spec.description}`);
}
