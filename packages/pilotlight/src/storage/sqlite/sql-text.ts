/**
 * SQL texts built once, for the statements a store runs on every claim or transition. The
 * connection caches its prepared statements by SQL text; a text built per call (a template with
 * a placeholder list or a choice) is a new string each time, whose hash the cache's lookup then
 * computes again over the whole text. A text built once keeps its hash.
 */

/**
 * `build(placeholders)` for a list of `count` values (`?, ?, …`), one text per count, built on its
 * first use: `sqlForList((list) => \`… IN (${list})\`)(queues.length)`.
 */
export function sqlForList(build: (placeholders: string) => string): (count: number) => string {
  const texts: string[] = [];
  return (count) => (texts[count] ??= build(Array.from({ length: count }, () => '?').join(', ')));
}
