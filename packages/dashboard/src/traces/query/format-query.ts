import type { SpanCondition } from '../../spans/conditions.ts';
import { formatDuration } from './durations.ts';

/** Attribute keys written bare: identifiers that are not one of the query's own subjects. */
const BARE_KEY = /^[A-Za-z_][\w.-]*$/;
const SUBJECT_NAMES = new Set(['name', 'service', 'kind', 'status', 'duration', 'trace', 'traceId']);

/**
 * `conditions` written back in the trace query language, normalized: keywords and kind and status
 * names in capitals, strings double-quoted with JSON escapes, durations in their largest exact unit
 * (`5m`). `parseTraceQuery(formatTraceQuery(c))` gives `c` back; no condition gives ''.
 */
export function formatTraceQuery(conditions: readonly SpanCondition[]): string {
  return conditions.map(formatCondition).join(' AND ');
}

function formatCondition(condition: SpanCondition): string {
  switch (condition.field) {
    case 'name':
    case 'service':
      return `${condition.field} ${condition.op} ${JSON.stringify(condition.value)}`;
    case 'kind':
    case 'status':
      return `${condition.field} ${condition.op} ${condition.value.toUpperCase()}`;
    case 'duration':
      return `duration ${condition.op} ${formatDuration(condition.valueUs)}`;
    case 'trace':
      return `trace = ${condition.value}`;
    case 'attribute': {
      const key = BARE_KEY.test(condition.key) && !SUBJECT_NAMES.has(condition.key) ? condition.key : JSON.stringify(condition.key);
      const value =
        typeof condition.value === 'string'
          ? JSON.stringify(condition.value)
          : Object.is(condition.value, -0)
            ? '-0'
            : String(condition.value);
      return `${key} ${condition.op} ${value}`;
    }
  }
}
