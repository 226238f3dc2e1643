import { queryError } from './query-error.ts';

/** Microseconds in one of each unit a duration may be written in. */
const UNIT_US: Readonly<Record<string, number>> = {
  ns: 0.001,
  us: 1,
  µs: 1,
  μs: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};

/** The units `formatDuration` writes, largest first. */
const WHOLE_UNITS = ['h', 'm', 's', 'ms', 'us'] as const;

const DURATION = /^(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(ns|us|µs|μs|ms|s|m|h)?$/;

/**
 * Microseconds of a duration as written in a query: `5m`, `300ms`, `1.5s`, `2h`, `250us` (or `µs`),
 * `100ns`; a bare number is milliseconds. @throws ValidationError otherwise.
 */
export function parseDuration(text: string, column: number): number {
  const match = DURATION.exec(text);
  if (match === null || !Number.isFinite(Number(match[1]))) {
    throw queryError(
      column,
      `duration takes a duration like 5m, 1.5s, 300ms, 250us or 100ns (a bare number is milliseconds); received ${text}`,
    );
  }
  const number = Number(match[1]);
  // Divided, not multiplied by 0.001: 123ns is exactly the double nearest 0.123 µs.
  return match[2] === 'ns' ? number / 1000 : number * UNIT_US[match[2] ?? 'ms']!;
}

/** A duration in the largest unit that writes it exactly (`300000000` µs is `5m`), parsed back to the same value. */
export function formatDuration(valueUs: number): string {
  for (const unit of WHOLE_UNITS) {
    const size = UNIT_US[unit]!;
    if (valueUs !== 0 && valueUs % size === 0) return `${valueUs / size}${unit}`;
  }
  // Fractions of a microsecond (from ns), and zero, in microseconds: exact as JavaScript writes them.
  return `${valueUs}us`;
}
