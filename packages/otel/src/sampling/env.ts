/**
 * The samplers' environment variables, `PILOTLIGHT_TRACES_SAMPLER` and `PILOTLIGHT_TAIL_SAMPLING`:
 * comma-separated `key=value` entries, parsed strictly. As the SDK does for `OTEL_TRACES_SAMPLER`,
 * a malformed variable is reported through `diag.error` and ignored as a whole (it never stops the
 * application from starting), and the message names the variable, the entry and the grammar.
 */
import { diag } from '@opentelemetry/api';
import type { JobSamplerOptions, LaterAttempts } from './job-sampler.ts';
import { isNamespace } from './job-span-attributes.ts';
import type { TailSamplingOptions } from './tail-sampling-options.ts';

export const TRACES_SAMPLER_ENV = 'PILOTLIGHT_TRACES_SAMPLER';
export const TAIL_SAMPLING_ENV = 'PILOTLIGHT_TAIL_SAMPLING';

const TRACES_SAMPLER_GRAMMAR =
  'comma-separated entries ratio=<0..1>, type:<job type>=<0..1>, queue:<queue>=<0..1>, recurring:<recurring id>=<0..1>, ' +
  'later-attempts=keep|sample, namespace=<attribute namespace>; e.g. ratio=0.1,type:email.send=0.01,later-attempts=keep';

const TAIL_SAMPLING_GRAMMAR =
  'on (every default), or comma-separated entries ratio=<0..1>, slower-than=<number>ms|s|m, max-spans=<integer >= 1>; ' +
  'e.g. ratio=0.1,slower-than=10s,max-spans=10000';

/** A malformed variable: the message says which entry and why. */
class EnvSyntaxError extends Error {
  override name = 'EnvSyntaxError';
}

interface Entry {
  readonly text: string;
  readonly key: string;
  readonly value: string;
}

/** `a=1, b:c=2` → entries; empty entries (a trailing comma) are skipped; a key given twice is an error. */
function entries(text: string): Entry[] {
  const seen = new Set<string>();
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      // The last '=': a value never holds one; a name might.
      const equals = entry.lastIndexOf('=');
      if (equals <= 0) throw new EnvSyntaxError(`entry "${entry}" is not key=value`);
      // `type: email.send` and `type:email.send` are the same key.
      const key = entry
        .slice(0, equals)
        .trim()
        .replace(/\s*:\s*/, ':');
      if (seen.has(key)) throw new EnvSyntaxError(`entry "${entry}": ${key} is given twice`);
      seen.add(key);
      return { text: entry, key, value: entry.slice(equals + 1).trim() };
    });
}

function ratio(entry: Entry): number {
  const value = entry.value === '' ? NaN : Number(entry.value);
  if (!(value >= 0 && value <= 1)) throw new EnvSyntaxError(`entry "${entry.text}": the ratio must be a number from 0 to 1`);
  return value;
}

/** `250ms`, `10s`, `1.5m` → milliseconds. */
function duration(entry: Entry): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/.exec(entry.value);
  if (!match) throw new EnvSyntaxError(`entry "${entry.text}": the duration must be a number followed by ms, s or m`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

function count(entry: Entry): number {
  const value = /^\d+$/.test(entry.value) ? Number(entry.value) : NaN;
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new EnvSyntaxError(`entry "${entry.text}": the count must be an integer >= 1`);
  return value;
}

/** The job sampler's options written in `PILOTLIGHT_TRACES_SAMPLER`. Throws on a malformed value. */
export function parseTracesSampler(text: string): JobSamplerOptions {
  const types: Record<string, number> = {};
  const queues: Record<string, number> = {};
  const recurring: Record<string, number> = {};
  const options: { -readonly [K in keyof JobSamplerOptions]: JobSamplerOptions[K] } = { types, queues, recurring };
  const rules: Readonly<Record<string, Record<string, number>>> = { type: types, queue: queues, recurring };
  const found = entries(text);
  if (found.length === 0) throw new EnvSyntaxError('no entry');
  for (const entry of found) {
    const colon = entry.key.indexOf(':');
    if (colon > 0) {
      const kind = entry.key.slice(0, colon);
      const name = entry.key.slice(colon + 1);
      const rule = Object.hasOwn(rules, kind) ? rules[kind] : undefined;
      if (!rule) throw new EnvSyntaxError(`entry "${entry.text}": unknown rule ${kind} (type:, queue:, recurring:)`);
      if (name === '') throw new EnvSyntaxError(`entry "${entry.text}": the name after ${kind}: is empty`);
      // Defined, not assigned: a job type named `__proto__` stays a plain key.
      Object.defineProperty(rule, name, { value: ratio(entry), enumerable: true });
    } else if (entry.key === 'ratio') {
      options.ratio = ratio(entry);
    } else if (entry.key === 'later-attempts') {
      if (entry.value !== 'keep' && entry.value !== 'sample')
        throw new EnvSyntaxError(`entry "${entry.text}": later-attempts is keep or sample`);
      options.laterAttempts = entry.value satisfies LaterAttempts;
    } else if (entry.key === 'namespace') {
      if (!isNamespace(entry.value))
        throw new EnvSyntaxError(`entry "${entry.text}": the namespace must be a lowercase dotted name such as hangfire`);
      options.namespace = entry.value;
    } else {
      throw new EnvSyntaxError(`entry "${entry.text}": unknown key ${entry.key}`);
    }
  }
  return options;
}

/** The tail sampler's options written in `PILOTLIGHT_TAIL_SAMPLING`; undefined for `off`. Throws on a malformed value. */
export function parseTailSampling(text: string): TailSamplingOptions | undefined {
  const trimmed = text.trim();
  if (trimmed === 'on') return {};
  if (trimmed === 'off') return undefined;
  const options: { -readonly [K in keyof TailSamplingOptions]: TailSamplingOptions[K] } = {};
  const found = entries(text);
  if (found.length === 0) throw new EnvSyntaxError('no entry');
  for (const entry of found) {
    if (entry.key === 'ratio') options.ratio = ratio(entry);
    else if (entry.key === 'slower-than') options.slowerThanMs = duration(entry);
    else if (entry.key === 'max-spans') options.maxBufferedSpans = count(entry);
    else throw new EnvSyntaxError(`entry "${entry.text}": unknown key ${entry.key}`);
  }
  return options;
}

/**
 * The options in environment variable `name`, or undefined when it is unset, blank or malformed
 * (then `diag.error` says why, and `fallback` says what applies instead).
 */
function fromEnv<T>(name: string, parse: (text: string) => T | undefined, grammar: string, fallback: string): T | undefined {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof EnvSyntaxError)) throw error;
    diag.error(`@pilotlight/otel: ${name}=${JSON.stringify(text)} is ignored, ${fallback}: ${error.message}. Grammar: ${grammar}`);
    return undefined;
  }
}

/**
 * `PILOTLIGHT_TRACES_SAMPLER`, or undefined (unset or malformed: then the SDK's own sampler,
 * from `OTEL_TRACES_SAMPLER`, applies).
 */
export function tracesSamplerFromEnv(): JobSamplerOptions | undefined {
  return fromEnv(TRACES_SAMPLER_ENV, parseTracesSampler, TRACES_SAMPLER_GRAMMAR, "the SDK's sampler (OTEL_TRACES_SAMPLER) applies");
}

/** `PILOTLIGHT_TAIL_SAMPLING`, or undefined (unset, `off` or malformed: no tail sampling). */
export function tailSamplingFromEnv(): TailSamplingOptions | undefined {
  return fromEnv(TAIL_SAMPLING_ENV, parseTailSampling, TAIL_SAMPLING_GRAMMAR, 'no tail sampling');
}
