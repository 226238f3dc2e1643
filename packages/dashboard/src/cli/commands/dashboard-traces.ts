/**
 * `pilotlight dashboard`'s traces: on by default, so that setting `OTEL_EXPORTER_OTLP_ENDPOINT` to the
 * dashboard's address in every process is all it takes. With `--sqlite FILE` the spans go to a file
 * of their own beside it (`jobs.db` → `jobs.traces.db`), created if missing (it is the dashboard's
 * own data, not a store a typo could invent); with `--postgres` to the same database and schema, through
 * a pool of the command's own. `--traces FILE` chooses a SQLite file for either, `--no-traces` turns
 * the receiver off (`/v1/traces` then answers 404).
 */
import { basename, dirname, join, resolve } from 'node:path';
import { PilotlightError, ValidationError } from 'pilotlight';
import type { DashboardTracesOptions } from '../../index.ts';
import { integerOption, stringOption, usageError, type OptionSpecs, type OptionValues } from '../args.ts';
import { createPool, errorMessage, type StoreChoice } from '../store.ts';

export const TRACE_OPTIONS: OptionSpecs = {
  traces: { type: 'string', value: 'FILE', description: 'keep received spans in this SQLite file (default: beside the store)' },
  'no-traces': { type: 'boolean', description: 'receive no traces: no OTLP endpoint, /v1/traces answers 404' },
  'trace-max-age': { type: 'string', value: 'AGE', description: 'delete spans older than this: 30m, 12h, 7d (default: 7d)' },
  'trace-max-spans': { type: 'string', value: 'N', description: 'keep at most the newest N spans (default: 1000000)' },
  'trace-url': {
    type: 'string',
    value: 'TEMPLATE',
    description: "link each trace to another backend: 'http://localhost:16686/trace/{traceId}'",
  },
};

/** The traces flags, checked before anything is opened. */
export interface TraceSettings {
  /** `--traces FILE`, resolved. */
  readonly file: string | undefined;
  readonly maxAgeMs: number | undefined;
  readonly maxSpans: number | undefined;
  readonly externalUrl: string | undefined;
}

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const TRACE_FLAGS = ['traces', 'trace-max-age', 'trace-max-spans', 'trace-url'] as const;

/** The settings the flags give, or undefined with `--no-traces`. */
export function traceSettings(command: string, values: OptionValues): TraceSettings | undefined {
  if (values['no-traces'] === true) {
    const given = TRACE_FLAGS.find((flag) => values[flag] !== undefined);
    if (given !== undefined) throw usageError(command, `--${given} sets how traces are kept, and --no-traces turns them off: give one`);
    return undefined;
  }
  const file = stringOption(command, values, 'traces');
  return {
    file: file === undefined ? undefined : resolve(file),
    maxAgeMs: duration(command, values, 'trace-max-age'),
    maxSpans:
      values['trace-max-spans'] === undefined
        ? undefined
        : integerOption(command, values, 'trace-max-spans', 1, Number.MAX_SAFE_INTEGER, 0),
    externalUrl: stringOption(command, values, 'trace-url'),
  };
}

/** A duration flag (`30m`, `12h`, `7d`, `90s`) in ms, undefined when absent. */
function duration(command: string, values: OptionValues, name: string): number | undefined {
  const text = stringOption(command, values, name);
  if (text === undefined) return undefined;
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2]!]! : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw usageError(
      command,
      `--${name} must be a duration, a whole number and a unit (s, m, h or d) such as 30m, 12h or 7d; received '${text}'`,
    );
  }
  return ms;
}

/** Where the spans go when `--traces` is not given: `jobs.db` → `jobs.traces.db`, `jobs` → `jobs.traces.db`. */
export function defaultTracesFile(storePath: string): string {
  return join(dirname(storePath), `${basename(storePath).replace(/\.(?:db|sqlite)$/, '')}.traces.db`);
}

/** An open trace store, where it is (for the start-up message), and how to close it with what the command opened for it. */
export interface OpenTraces {
  readonly options: DashboardTracesOptions;
  readonly where: string;
  close(): Promise<void>;
}

/** Opens the trace store the settings and the jobs store choose. */
export async function openTraces(settings: TraceSettings, choice: StoreChoice, command: string): Promise<OpenTraces> {
  const { createPostgresTraceStore, createSqliteTraceStore } = await import('../../index.ts');
  const limits = {
    ...(settings.maxAgeMs !== undefined && { maxAgeMs: settings.maxAgeMs }),
    ...(settings.maxSpans !== undefined && { maxSpans: settings.maxSpans }),
    ...(settings.externalUrl !== undefined && { externalUrl: settings.externalUrl }),
  };
  const file = settings.file ?? (choice.kind === 'sqlite' ? defaultTracesFile(choice.path) : undefined);
  if (file !== undefined) {
    const flag =
      settings.file === undefined ? `the trace store ${file} (beside --sqlite; choose another with --traces FILE)` : `--traces ${file}`;
    try {
      const store = await createSqliteTraceStore({ path: file });
      return { options: { store, ...limits }, where: file, close: () => store.close() };
    } catch (error) {
      if (error instanceof PilotlightError) throw usageError(command, `${flag}: ${error.message}`);
      throw new ValidationError(`${flag}: SQLite cannot open it as a trace store (${errorMessage(error)})`, { cause: error });
    }
  }
  const postgres = choice as StoreChoice & { readonly kind: 'postgres' };
  const pool = await createPool(postgres);
  try {
    const store = await createPostgresTraceStore({ pool, schema: postgres.schema });
    return {
      options: { store, ...limits },
      where: `the PostgreSQL schema ${postgres.schema}`,
      close: async () => {
        await store.close();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    if (error instanceof PilotlightError) throw error;
    throw new ValidationError(`the trace store in the PostgreSQL schema ${postgres.schema} could not be opened: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
