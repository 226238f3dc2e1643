import { formatCount } from '../html/format.ts';
import { html, type SafeHtml } from '../html/template.ts';
import type { SpanPage } from '../spans/trace-store.ts';

/**
 * The traces and tasks pages' paging: "Newest" back to the first page, "Older" to the next one
 * (keyset: the store's `next`). When the store stopped at the scan limit before the page was full,
 * it says how far it looked, and "Continue" goes on from there.
 */
export function spanPager(page: SpanPage, scanned: number, href: (before: string | undefined) => string, paged: boolean): SafeHtml {
  const newest = paged ? html`<a href="${href(undefined)}">Newest</a>` : '';
  if (page.next === undefined) return html`<p class="pager">${newest}</p>`;
  if (page.scanStopped) {
    return html`<p class="pager" data-testid="scan-stopped">
      ${newest}
      <span class="muted">Examined the ${paged ? 'next' : 'newest'} ${formatCount(scanned)} spans;</span>
      <a href="${href(page.next)}" rel="next">Continue</a>
    </p>`;
  }
  return html`<p class="pager">${newest} <a href="${href(page.next)}" rel="next">Older</a></p>`;
}
