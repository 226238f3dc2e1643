/**
 * Human output: aligned tables, dates, ages and state colours. Colours go through `node:util`
 * `styleText`, which leaves text plain when stdout is not a terminal (a pipe, a file) or when
 * `NO_COLOR` is set; widths are measured on the plain text.
 */
import { styleText } from 'node:util';
import type { StateName } from 'pilotlight';

type Style = Parameters<typeof styleText>[0];

export interface Column {
  readonly header: string;
  readonly align?: 'right';
  /** How a cell of this column is coloured, from its plain text. */
  readonly style?: (text: string) => Style | undefined;
}

/** Writes `text` to stdout, followed by a newline. */
export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** A table: a header line, then one line per row, columns two spaces apart. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[], indent = ''): string {
  const widths = columns.map((column, index) => Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (cells: readonly string[], header: boolean): string =>
    indent +
    columns
      .map((column, index) => {
        const text = cells[index] ?? '';
        const last = index === columns.length - 1;
        const padded = column.align === 'right' ? text.padStart(widths[index]!) : last ? text : text.padEnd(widths[index]!);
        const style = header ? 'bold' : column.style?.(text);
        return style ? paint(style, text, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [
    line(
      columns.map((column) => column.header),
      true,
    ),
    ...rows.map((row) => line(row, false)),
  ].join('\n');
}

/** `padded` (`text` with spaces around it) with only `text` styled. */
function paint(style: Style, text: string, padded: string): string {
  if (text === '') return padded;
  const at = padded.indexOf(text);
  return padded.slice(0, at) + styleText(style, text, { stream: process.stdout }) + padded.slice(at + text.length);
}

/** Section headings and other emphasis. */
export function heading(text: string): string {
  return styleText('bold', text, { stream: process.stdout });
}

export function dim(text: string): string {
  return styleText('dim', text, { stream: process.stdout });
}

const STATE_STYLES: Partial<Record<StateName, Style>> = {
  Succeeded: 'green',
  Failed: 'red',
  Processing: 'cyan',
  Scheduled: 'yellow',
  Awaiting: 'yellow',
  Deleted: 'gray',
};

/** A state's colour, for `Column.style`. */
export function stateStyle(text: string): Style | undefined {
  return STATE_STYLES[text as StateName];
}

/** A state name, coloured. */
export function stateText(state: StateName): string {
  const style = stateStyle(state);
  return style ? styleText(style, state, { stream: process.stdout }) : state;
}

/** `2025-12-01 09:23:11Z`: UTC to the second. */
export function dateText(date: Date | undefined): string {
  return date === undefined
    ? ''
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z');
}

const UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/** A duration, in its two largest units: `45s`, `3m 12s`, `2h 5m`, `4d 3h`, `0s`. */
export function durationText(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000));
  const counts = UNITS.map(([unit, size]) => {
    const count = Math.floor(rest / size);
    rest -= count * size;
    return { count, unit };
  });
  const first = counts.findIndex(({ count }) => count > 0);
  if (first === -1) return '0s';
  return counts
    .slice(first, first + 2)
    .filter(({ count }) => count > 0)
    .map(({ count, unit }) => `${count}${unit}`)
    .join(' ');
}

/** How long ago (or, for a future date, in how long) `date` is: `3m 12s ago`, `in 2h 5m`. */
export function relativeText(date: Date | undefined, now = Date.now()): string {
  if (date === undefined) return '';
  const ms = now - date.getTime();
  return ms >= 0 ? `${durationText(ms)} ago` : `in ${durationText(-ms)}`;
}

/** A job's type with its method (class jobs): `TenantService.provision`. */
export function jobName(job: { readonly type: string; readonly method: string }): string {
  return job.method === '' ? job.type : `${job.type}.${job.method}`;
}

/** `text` cut to `max` characters, on one line. */
export function oneLine(text: string | undefined, max: number): string {
  if (text === undefined) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
