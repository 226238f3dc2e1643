import type { PageContext } from '../html/context.ts';
import { emptyRow, timeTag } from '../html/elements.ts';
import { serviceTag, spanJobId, spanStatusBadge } from '../html/span-elements.ts';
import { formatSpanDuration, spanDurationUs } from '../html/span-format.ts';
import { html, type SafeHtml } from '../html/template.ts';
import { serviceName, type SpanRecord } from '../spans/model.ts';

/**
 * Spans as the traces page lists them, newest first: when each started, its service, name, kind,
 * status (an error's message beside it), duration, its trace, and its job when it belongs to one.
 */
export function spanTable(ctx: PageContext, spans: readonly SpanRecord[], nothing: string): SafeHtml {
  const rows = spans.map((span) => {
    const jobId = spanJobId(span);
    const message = span.status.code === 'error' ? span.status.message : undefined;
    return html`<tr data-testid="span-result" data-trace-id="${span.traceId}" data-span-id="${span.spanId}">
      <td class="nowrap">${timeTag(new Date(span.startUs / 1000), ctx.now)}</td>
      <td>${serviceTag(serviceName(span.resource), undefined)}</td>
      <td class="wrap"><a href="${ctx.links.trace(span.traceId, span.spanId)}" class="span-name" title="${span.name}">${span.name}</a></td>
      <td>${span.kind}</td>
      <td>${spanStatusBadge(span)} ${message ? html`<span class="reason" title="${message}">${message}</span>` : ''}</td>
      <td class="num nowrap">${formatSpanDuration(spanDurationUs(span))}</td>
      <td>
        <a href="${ctx.links.trace(span.traceId)}" title="${span.traceId}" data-testid="result-trace-link"
          ><code>${span.traceId.slice(0, 8)}…</code></a
        >
      </td>
      <td class="nowrap">
        ${jobId === undefined ? '' : html`<a href="${ctx.links.job(jobId)}" data-testid="result-job-link">Job ${jobId}</a>`}
      </td>
    </tr>`;
  });
  return html`<div class="table-wrap">
    <table class="spans">
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Service</th>
          <th scope="col">Span</th>
          <th scope="col">Kind</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">Duration</th>
          <th scope="col">Trace</th>
          <th scope="col">Job</th>
        </tr>
      </thead>
      <tbody>
        ${rows.length === 0 ? emptyRow(8, nothing) : rows}
      </tbody>
    </table>
  </div>`;
}
