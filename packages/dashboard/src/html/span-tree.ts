import type { SpanRecord } from '../spans/model.ts';

/** One row of a trace's waterfall: a span, how deep it sits, and why it is a root when it has a parent. */
export interface SpanRow {
  readonly span: SpanRecord;
  /** 0 for a root. */
  readonly depth: number;
  /** The parent span id of a span shown as a root because its parent is not among the spans (not received, or beyond the limit). */
  readonly missingParent?: string;
}

const byStart = (a: SpanRecord, b: SpanRecord) => a.startUs - b.startUs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);

/**
 * The spans of a trace in tree order: each span followed by its children (by start time), depth
 * first. A span whose parent is not among `spans` is a root, with `missingParent` set. Spans that
 * only reach each other through their parents (a cycle, which no SDK sends but a store can hold)
 * are shown as roots too, so every span appears exactly once. Iterative: a trace thousands of
 * spans deep does not overflow the stack.
 */
export function spanTree(spans: readonly SpanRecord[]): SpanRow[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const span of spans) {
    if (span.parentSpanId !== undefined && ids.has(span.parentSpanId) && span.parentSpanId !== span.spanId) {
      const siblings = children.get(span.parentSpanId) ?? [];
      siblings.push(span);
      children.set(span.parentSpanId, siblings);
    } else {
      roots.push(span);
    }
  }
  for (const siblings of children.values()) siblings.sort(byStart);
  const rows: SpanRow[] = [];
  const placed = new Set<string>();
  const walk = (root: SpanRecord) => {
    const stack: { span: SpanRecord; depth: number }[] = [{ span: root, depth: 0 }];
    while (stack.length > 0) {
      const { span, depth } = stack.pop()!;
      if (placed.has(span.spanId)) continue;
      placed.add(span.spanId);
      const missingParent = depth === 0 ? span.parentSpanId : undefined;
      rows.push(missingParent === undefined ? { span, depth } : { span, depth, missingParent });
      const below = children.get(span.spanId) ?? [];
      for (let i = below.length - 1; i >= 0; i--) stack.push({ span: below[i]!, depth: depth + 1 });
    }
  };
  for (const root of roots.sort(byStart)) walk(root);
  for (const span of [...spans].sort(byStart)) if (!placed.has(span.spanId)) walk(span);
  return rows;
}
