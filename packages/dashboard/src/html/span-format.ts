import type { AttributeValue, SpanRecord } from '../spans/model.ts';
import { formatDuration } from './format.ts';

/**
 * Text the trace pages show for span times and attribute values. Spans last microseconds to hours,
 * so their durations keep three significant digits up to a minute (`0.41 ms`, `17.6 ms`, `1.23 s`),
 * where the jobs' coarse `formatDuration` takes over.
 */

/** `250 µs`, `0.41 ms`, `17.6 ms`, `1.23 s`, `4 min`. */
export function formatSpanDuration(us: number): string {
  if (us < 100) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${significant(us / 1000)} ms`;
  if (us < 60_000_000) return `${significant(us / 1_000_000)} s`;
  return formatDuration(us / 1000);
}

/** A time within a trace, from its start: `+12.3 ms`. */
export function formatOffset(us: number): string {
  return `+${formatSpanDuration(Math.max(0, us))}`;
}

/** How long a span took, in microseconds. */
export function spanDurationUs(span: SpanRecord): number {
  return span.endUs - span.startUs;
}

/** An attribute value as the pages print it: a string as it is, anything else as JSON. */
export function attributeText(value: AttributeValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Three significant digits, at most two decimals: `0.41`, `17.6`, `123`. */
function significant(value: number): string {
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
}
