/** A plain-text table for terminal reports; numbers (and cells marked right) are right-aligned. */

export type Align = 'left' | 'right';

export interface Column {
  readonly title: string;
  readonly align?: Align;
}

export function renderTable(columns: readonly (Column | string)[], rows: readonly (readonly string[])[]): string {
  const cols: Column[] = columns.map((column) => (typeof column === 'string' ? { title: column } : column));
  const widths = cols.map((column, i) => Math.max(column.title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cols
      .map((column, i) => {
        const cell = cells[i] ?? '';
        return column.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(cols.map((column) => column.title)), rule, ...rows.map(line)].join('\n');
}

export function printTable(columns: readonly (Column | string)[], rows: readonly (readonly string[])[]): void {
  console.log(renderTable(columns, rows));
}
