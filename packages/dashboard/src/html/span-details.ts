import type { Attributes, SpanEvent, SpanLink, SpanRecord } from '../spans/model.ts';
import type { PageContext } from './context.ts';
import { formatAbsolute } from './format.ts';
import { spanJobId } from './span-elements.ts';
import { attributeText, formatOffset, formatSpanDuration, spanDurationUs } from './span-format.ts';
import { html, type HtmlValue, type SafeHtml } from './template.ts';

/**
 * What a waterfall row opens to: the span's ids, times and scope, its job, its attributes (sorted),
 * its resource's (the process: `service.name`, `process.pid`, `host.name`…), its events with their
 * time from the trace's start (an `exception` event with its type, message and stack) and its links.
 */
export function spanDetails(ctx: PageContext, span: SpanRecord, traceStartUs: number): SafeHtml {
  const { links } = ctx;
  const jobId = spanJobId(span);
  const scope = span.scope.version ? `${span.scope.name} ${span.scope.version}` : span.scope.name;
  const facts: [string, HtmlValue][] = [
    ['Span', html`<code>${span.spanId}</code> <a href="${links.trace(span.traceId, span.spanId)}">link</a>`],
    ['Parent', span.parentSpanId ? html`<code>${span.parentSpanId}</code>` : html`<span class="muted">none (a root span)</span>`],
    ['Kind', span.kind],
    ['Status', span.status.message ? `${span.status.code}: ${span.status.message}` : span.status.code],
    ['Started', `${formatAbsolute(new Date(span.startUs / 1000))} (${formatOffset(span.startUs - traceStartUs)})`],
    ['Duration', formatSpanDuration(spanDurationUs(span))],
    ['Scope', scope || html`<span class="muted">none</span>`],
  ];
  if (jobId !== undefined) {
    facts.unshift(['Job', html`<a href="${links.job(jobId)}" data-testid="span-job-link">Job ${jobId}</a>`]);
  }
  return html`<div class="span-details" data-testid="span-details">
    <dl class="facts">
      ${facts.map(
        ([term, value]) =>
          html`<dt>${term}</dt>
            <dd>${value}</dd>`,
      )}
    </dl>
    <h3>Attributes</h3>
    ${attributeTable(span.attributes, 'span-attributes')}
    <h3>Resource</h3>
    ${attributeTable(span.resource, 'span-resource')}
    ${
      span.events.length > 0
        ? html`<h3>Events</h3>
            ${eventList(span.events, traceStartUs)}`
        : ''
    }
    ${
      span.links.length > 0
        ? html`<h3>Links</h3>
            ${linkList(ctx, span.links)}`
        : ''
    }
  </div>`;
}

/** Attributes as a two-column table, sorted by key; a value that is not a string shown as JSON. */
function attributeTable(attributes: Attributes, testId: string): SafeHtml {
  const entries = Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return html`<p class="muted" data-testid="${testId}">None.</p>`;
  return html`<table class="attributes" data-testid="${testId}">
    <tbody>
      ${entries.map(
        ([key, value]) =>
          html`<tr>
            <th scope="row"><code>${key}</code></th>
            <td><code>${attributeText(value)}</code></td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** An `exception` event as an exception (type, message, stack); any other event as its name and attributes. */
function eventList(events: readonly SpanEvent[], traceStartUs: number): SafeHtml {
  const items = events.map((event) => {
    const head = html`<span class="offset">${formatOffset(event.timeUs - traceStartUs)}</span> <strong>${event.name}</strong>`;
    if (event.name !== 'exception') {
      const shown = Object.keys(event.attributes).length > 0 ? attributeTable(event.attributes, 'event-attributes') : '';
      return html`<li data-testid="span-event">${head} ${shown}</li>`;
    }
    const { 'exception.type': type, 'exception.message': message, 'exception.stacktrace': stack, ...rest } = event.attributes;
    return html`<li data-testid="span-event">
      ${head}
      <div class="exception" data-testid="span-exception">
        <p>
          <strong class="exception-type">${type === undefined ? 'Error' : attributeText(type)}</strong>:
          <span class="exception-message">${message === undefined ? '' : attributeText(message)}</span>
        </p>
        ${stack === undefined ? '' : html`<pre class="code stack">${attributeText(stack)}</pre>`}
        ${Object.keys(rest).length > 0 ? attributeTable(rest, 'event-attributes') : ''}
      </div>
    </li>`;
  });
  return html`<ol class="events">
    ${items}
  </ol>`;
}

function linkList(ctx: PageContext, spanLinks: readonly SpanLink[]): SafeHtml {
  return html`<ul class="events">
    ${spanLinks.map(
      (link) =>
        html`<li data-testid="span-link">
          <a href="${ctx.links.trace(link.traceId, link.spanId)}">span <code>${link.spanId}</code> of trace <code>${link.traceId}</code></a>
          ${Object.keys(link.attributes).length > 0 ? attributeTable(link.attributes, 'link-attributes') : ''}
        </li>`,
    )}
  </ul>`;
}
