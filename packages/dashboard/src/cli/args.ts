/**
 * Command-line arguments: each command declares its options once (`OptionSpecs`), which give both
 * `node:util` `parseArgs` (strict) its configuration and `--help` its text. Every mistake becomes a
 * `ValidationError` naming the flag, the value received and what to pass instead.
 */
import { parseArgs } from 'node:util';
import { ValidationError } from 'pilotlight';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in the help (`N`, `FILE`); string options only. */
  readonly value?: string;
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

export interface ParsedArgs {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
}

/** What every command is called, for messages: `pilotlight jobs`. */
export function commandName(command: string): string {
  return `pilotlight ${command}`;
}

/** A mistake on the command line: exit code 2, with a pointer to the command's help. */
export function usageError(command: string, message: string): ValidationError {
  return new ValidationError(`${message}\nRun '${commandName(command)} --help' for its options.`);
}

/** Parses `argv` (the arguments after the command's name) against `options`. */
export function parseCommandArgs(command: string, argv: readonly string[], options: OptionSpecs, allowPositionals: boolean): ParsedArgs {
  const config = Object.fromEntries(Object.entries(options).map(([name, spec]) => [name, { type: spec.type }]));
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals });
    return { values: values as OptionValues, positionals };
  } catch (error) {
    throw usageError(command, describeParseError(error, options));
  }
}

/** `parseArgs`'s errors, said in terms of this command: which flag, which value, what to do. */
function describeParseError(error: unknown, options: OptionSpecs): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const flag = quoted.split(' ')[0]!;
  const spec = options[flag.replace(/^--?/, '')];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${quoted}': this command takes options only`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (spec?.type === 'boolean') return `${flag} takes no value (it is a switch): write ${flag} alone`;
      if (spec && message.includes('ambiguous')) {
        return `${flag} needs a value, and the next argument starts with '-': write ${flag}=<value> if it is the value`;
      }
      if (spec) return `${flag} needs a value: ${flag} ${spec.value ?? 'VALUE'}`;
      return message;
    default:
      return message;
  }
}

/** A string option's value, undefined when absent; an empty value is refused. */
export function stringOption(command: string, values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw usageError(command, `--${name} needs a non-empty value; received ${JSON.stringify(value)}`);
  }
  return value;
}

/** An integer option between `min` and `max`, `fallback` when absent. */
export function integerOption(command: string, values: OptionValues, name: string, min: number, max: number, fallback: number): number {
  const text = stringOption(command, values, name);
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(command, `--${name} must be an integer from ${min} to ${max}; received '${text}'`);
  }
  return value;
}

/** A string option that must be one of `choices` (in any case), undefined when absent. */
export function choiceOption<T extends string>(command: string, values: OptionValues, name: string, choices: readonly T[]): T | undefined {
  const text = stringOption(command, values, name);
  if (text === undefined) return undefined;
  const choice = choices.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (choice === undefined) throw usageError(command, `--${name} must be one of ${choices.join(', ')}; received '${text}'`);
  return choice;
}
