import type { DashboardConfig } from '../config/options.ts';
import { TRACE_LIMITS } from '../config/defaults.ts';
import type { PageContext } from '../html/context.ts';
import { timeTag } from '../html/elements.ts';
import { formatCount, plural } from '../html/format.ts';
import type { Page } from '../html/layout.ts';
import { externalTraceLink } from '../html/links.ts';
import { serviceColours, serviceTag, spanStatusBadge } from '../html/span-elements.ts';
import { formatSpanDuration } from '../html/span-format.ts';
import { spanTree } from '../html/span-tree.ts';
import { html, type HtmlValue } from '../html/template.ts';
import { waterfall } from '../html/waterfall.ts';
import { tracesOff } from './traces-off.ts';

/**
 * `/traces/:traceId`: what the trace is (its root span, the services it crossed, how many spans, how
 * long, how many failed, when) and its waterfall. A trace the store does not hold is a 404 page
 * that says so.
 */
export async function tracePage(ctx: PageContext, config: DashboardConfig, traceId: string): Promise<Page> {
  if (config.traces === undefined) return tracesOff(ctx, 'traces');
  const { spans, truncated } = await config.traces.store.getTrace(traceId, TRACE_LIMITS.maxTraceSpans);
  const title = `Trace ${traceId}`;
  if (spans.length === 0) {
    const body = html`<div class="page-head"><h1>${title}</h1></div>
      <section class="card error-card">
        <p data-testid="error-message">
          Trace <code>${traceId}</code> is not in the trace store: its spans have not been received, or were deleted by retention.
        </p>
        <p class="muted">HTTP 404</p>
        <p><a href="${ctx.links.traces()}">Search the traces</a></p>
      </section>`;
    return { title, section: 'traces', body, status: 404 };
  }
  const [first] = spanTree(spans);
  const root = first!.span;
  const startUs = Math.min(...spans.map((span) => span.startUs));
  const endUs = Math.max(...spans.map((span) => span.endUs));
  const errors = spans.filter((span) => span.status.code === 'error').length;
  const colours = serviceColours(spans);
  const external = externalTraceLink(config.traces.externalUrl, traceId);
  const facts: [string, HtmlValue][] = [
    ['Root span', html`<span data-testid="trace-root">${root.name}</span> ${spanStatusBadge(root)}`],
    [
      'Services',
      html`<span class="svc-list" data-testid="trace-services"
        >${[...colours].map(([service, colour]) => serviceTag(service, colour))}</span
      >`,
    ],
    [
      'Spans',
      html`<span data-testid="trace-span-count">${formatCount(spans.length)}</span
        >${truncated ? html` <span class="muted" data-testid="trace-truncated">(showing the first ${formatCount(spans.length)} spans)</span>` : ''}`,
    ],
    ['Duration', formatSpanDuration(endUs - startUs)],
    ['Errors', html`<span data-testid="trace-errors">${errors === 0 ? 'none' : plural(errors, 'span')}</span>`],
    ['Started', timeTag(new Date(startUs / 1000), ctx.now)],
  ];
  const body = html`<div class="page-head">
      <h1>Trace <code>${traceId}</code></h1>
      <div class="actions">
        ${external ? html`<a class="button" href="${external.href}" rel="noreferrer" data-testid="external-trace-link">Open in ${external.host}</a>` : ''}
      </div>
    </div>
    <section class="card" aria-labelledby="trace-summary-title">
      <h2 id="trace-summary-title" class="visually-hidden">Summary</h2>
      <dl class="facts facts-wide">
        ${facts.map(
          ([term, value]) =>
            html`<dt>${term}</dt>
              <dd>${value}</dd>`,
        )}
      </dl>
    </section>
    <section class="card" aria-labelledby="waterfall-title">
      <h2 id="waterfall-title">Spans</h2>
      ${waterfall(ctx, spans)}
    </section>`;
  return { title, section: 'traces', body };
}
