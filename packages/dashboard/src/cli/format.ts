/**
 * Human output: aligned tables and state colours (dates, durations and job names are written as the
 * dashboard's pages write them: `html/format.ts`, `html/elements.ts`). Colours go through
 * `node:util` `styleText`, which leaves text plain when stdout is not a terminal (a pipe, a file) or
 * when `NO_COLOR` is set; widths are measured on the plain text.
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

/** `text` cut to `max` characters, on one line. */
export function oneLine(text: string | undefined, max: number): string {
  if (text === undefined) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
