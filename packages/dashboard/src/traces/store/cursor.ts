import { ValidationError } from 'pilotlight';

/**
 * Where a span sits in the newest-first order of `findSpans()`: its start, then its insertion
 * sequence (the store's own number, unique, so spans starting in the same microsecond keep one
 * order and a page boundary between them loses or repeats none).
 */
export interface SpanKey {
  readonly startUs: number;
  readonly seq: number;
}

/** `SpanPage.next`: opaque to callers (`<start>.<seq>` in base 36, short in a URL). */
export function encodeCursor(key: SpanKey): string {
  return `${key.startUs.toString(36)}.${key.seq.toString(36)}`;
}

const CURSOR = /^([0-9a-z]{1,11})\.([0-9a-z]{1,11})$/;

/** The key a `SpanQuery.before` names; a `ValidationError` for anything `encodeCursor()` did not make. */
export function decodeCursor(cursor: unknown): SpanKey {
  const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
  const startUs = match ? parseInt(match[1]!, 36) : NaN;
  const seq = match ? parseInt(match[2]!, 36) : NaN;
  if (!Number.isSafeInteger(startUs) || !Number.isSafeInteger(seq)) {
    throw new ValidationError(
      `findSpans() query.before must be the next of a page findSpans() returned; received ${JSON.stringify(cursor)?.slice(0, 100)}: start from the first page (leave before out)`,
    );
  }
  return { startUs, seq };
}
