import { ValidationError } from 'pilotlight';

/** Checks `TraceStore.prune()`'s argument. */
export function assertRetention(retention: { readonly olderThanUs: number; readonly maxSpans: number }): {
  olderThanUs: number;
  maxSpans: number;
} {
  const { olderThanUs, maxSpans } = retention ?? {};
  if (typeof olderThanUs !== 'number' || !Number.isFinite(olderThanUs)) {
    throw new ValidationError(`prune() olderThanUs must be a time in epoch microseconds; received ${String(olderThanUs)}`);
  }
  if (!Number.isSafeInteger(maxSpans) || maxSpans < 0) {
    throw new ValidationError(`prune() maxSpans must be an integer >= 0; received ${String(maxSpans)}`);
  }
  return { olderThanUs, maxSpans };
}
