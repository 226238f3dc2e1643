import type { MinuteOutcomes } from 'pilotlight';
import { LIMITS } from '../config/defaults.ts';
import { formatCount, formatMinute, plural } from './format.ts';
import { html, type SafeHtml } from './template.ts';

export interface Bar {
  readonly y: number;
  readonly height: number;
}

/** One minute of the chart: where its two stacked bars go, and what its tooltip says. */
export interface ChartColumn {
  readonly x: number;
  readonly succeeded: Bar;
  readonly failed: Bar;
  readonly label: string;
}

/**
 * The chart as numbers: the server draws it from them (`renderChart`), and `/api/overview` sends
 * them, so that the page's script redraws it with the same geometry.
 */
export interface ChartGeometry {
  readonly columns: readonly ChartColumn[];
  readonly barWidth: number;
  /** Where the plot area starts and how tall it is: the extent of each minute's hover area. */
  readonly top: number;
  readonly plotHeight: number;
  /** The largest minute's total: the top of the scale. */
  readonly max: number;
  readonly succeeded: number;
  readonly failed: number;
  /** What the chart shows, for screen readers. */
  readonly label: string;
}

const WIDTH = 640;
const LEFT = 40;
const TOP = 8;
const BOTTOM = 136;
const HEIGHT = 160;
const SLOT = (WIDTH - LEFT) / LIMITS.chartMinutes;

/** The last `LIMITS.chartMinutes` minutes up to `now`'s, oldest first; minutes absent from `outcomes` count zero. */
export function chartGeometry(outcomes: readonly MinuteOutcomes[], now: Date): ChartGeometry {
  const byMinute = new Map(outcomes.map((entry) => [Math.floor(entry.minute.getTime() / 60_000), entry]));
  const last = Math.floor(now.getTime() / 60_000);
  const minutes = Array.from({ length: LIMITS.chartMinutes }, (_, i) => {
    const minute = last - LIMITS.chartMinutes + 1 + i;
    const entry = byMinute.get(minute);
    return { minute: new Date(minute * 60_000), succeeded: entry?.succeeded ?? 0, failed: entry?.failed ?? 0 };
  });
  const max = Math.max(1, ...minutes.map((entry) => entry.succeeded + entry.failed));
  const scale = (count: number) => Math.round((count / max) * (BOTTOM - TOP) * 10) / 10;
  const columns = minutes.map((entry, i) => {
    const succeeded = scale(entry.succeeded);
    const failed = scale(entry.failed);
    return {
      x: Math.round((LEFT + i * SLOT + 1) * 10) / 10,
      succeeded: { y: BOTTOM - succeeded, height: succeeded },
      failed: { y: Math.round((BOTTOM - succeeded - failed) * 10) / 10, height: failed },
      label: `${formatMinute(entry.minute)} UTC: ${formatCount(entry.succeeded)} succeeded, ${formatCount(entry.failed)} failed`,
    };
  });
  const succeeded = minutes.reduce((sum, entry) => sum + entry.succeeded, 0);
  const failed = minutes.reduce((sum, entry) => sum + entry.failed, 0);
  return {
    columns,
    barWidth: Math.round((SLOT - 2) * 10) / 10,
    top: TOP,
    plotHeight: BOTTOM - TOP,
    max,
    succeeded,
    failed,
    label: `Jobs finished per minute over the last hour: ${plural(succeeded, 'job')} succeeded, ${formatCount(failed)} failed`,
  };
}

/** The chart as SVG: stacked bars per minute (succeeded below, failed above), each with its tooltip. */
export function renderChart(chart: ChartGeometry): SafeHtml {
  const columns = chart.columns.map(
    (column) =>
      html`<g
        ><title>${column.label}</title
        ><rect class="bar-hit" x="${column.x}" y="${chart.top}" width="${chart.barWidth}" height="${chart.plotHeight}"></rect
        ><rect
          class="bar-succeeded"
          x="${column.x}"
          y="${column.succeeded.y}"
          width="${chart.barWidth}"
          height="${column.succeeded.height}"
        ></rect
        ><rect class="bar-failed" x="${column.x}" y="${column.failed.y}" width="${chart.barWidth}" height="${column.failed.height}"></rect
      ></g>`,
  );
  const middle = LEFT + (WIDTH - LEFT) / 2;
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${chart.label}">
    <line class="axis-line" x1="${LEFT}" x2="${WIDTH}" y1="${TOP}" y2="${TOP}"></line>
    <line class="axis-line" x1="${LEFT}" x2="${WIDTH}" y1="${BOTTOM}" y2="${BOTTOM}"></line>
    <text class="axis" x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end" data-field="chart-max">${formatCount(chart.max)}</text>
    <text class="axis" x="${LEFT - 6}" y="${BOTTOM}" text-anchor="end">0</text>
    <g data-field="chart-bars">${columns}</g>
    <text class="axis" x="${LEFT}" y="${HEIGHT - 6}">${LIMITS.chartMinutes} min ago</text>
    <text class="axis" x="${middle}" y="${HEIGHT - 6}" text-anchor="middle">${LIMITS.chartMinutes / 2} min ago</text>
    <text class="axis" x="${WIDTH}" y="${HEIGHT - 6}" text-anchor="end">now</text>
  </svg>`;
}
