import { serviceName, type SpanRecord } from '../spans/model.ts';
import type { PageContext } from './context.ts';
import { spanDetails } from './span-details.ts';
import { serviceColours, serviceTag, spanAnchor, spanJobId, spanStatusBadge } from './span-elements.ts';
import { formatSpanDuration, spanDurationUs } from './span-format.ts';
import { spanTree, type SpanRow } from './span-tree.ts';
import { html, type SafeHtml } from './template.ts';

export interface WaterfallOptions {
  /** The spans of this job (`pilotlight.job.id`) are highlighted: the job's page shows its trace. */
  readonly highlightJobId?: string;
}

/** Width of the bars' coordinate space: the SVG is stretched to its cell, x and width are thousandths of the trace. */
const AXIS = 1000;
/** Indentation steps drawn at most: deeper spans say their depth instead of running off the row. */
const MAX_INDENT = 16;

/**
 * One trace as a waterfall, rendered on the server: a row per span in tree order, indented by depth,
 * with its service (a colour per service), name, kind, status, duration and a bar on the trace's time
 * axis. Each row is a `<details>` (keyboard and screen-reader usable, no script) that opens to the
 * span's attributes, events and links. The bars are inline SVG with `x`/`width` attributes: the
 * Content-Security-Policy allows no inline style.
 */
export function waterfall(ctx: PageContext, spans: readonly SpanRecord[], options: WaterfallOptions = {}): SafeHtml {
  if (spans.length === 0) return html`<p class="muted" data-testid="waterfall">No spans.</p>`;
  const rows = spanTree(spans);
  const startUs = Math.min(...spans.map((span) => span.startUs));
  const totalUs = Math.max(1, Math.max(...spans.map((span) => span.endUs)) - startUs);
  const colours = serviceColours(rows.map((row) => row.span));
  const axis = { startUs, totalUs };
  return html`<div class="waterfall" data-testid="waterfall">
    <div class="wf-head" aria-hidden="true">
      <span>Span</span><span>Status</span><span class="num">Duration</span>
      <span class="wf-axis"><span>0</span><span>${formatSpanDuration(totalUs / 2)}</span><span>${formatSpanDuration(totalUs)}</span></span>
    </div>
    <ol class="wf-rows">
      ${rows.map((row) => waterfallRow(ctx, row, axis, colours, options))}
    </ol>
  </div>`;
}

function waterfallRow(
  ctx: PageContext,
  row: SpanRow,
  axis: { readonly startUs: number; readonly totalUs: number },
  colours: ReadonlyMap<string, string>,
  options: WaterfallOptions,
): SafeHtml {
  const { span, depth, missingParent } = row;
  const colour = colours.get(serviceName(span.resource));
  const ofJob = options.highlightJobId !== undefined && spanJobId(span) === options.highlightJobId;
  const classes = ofJob ? 'wf-row wf-job' : 'wf-row';
  const indent = Array.from({ length: Math.min(depth, MAX_INDENT) }, () => html`<span class="wf-indent"></span>`);
  const notes = [
    depth > MAX_INDENT && html`<span class="wf-note" title="depth ${depth}">↳ ${depth}</span>`,
    missingParent !== undefined &&
      html`<span class="wf-note" data-testid="missing-parent" title="parent span ${missingParent} not received"
        >parent span ${missingParent} not received</span
      >`,
    span.status.code === 'error' &&
      span.status.message &&
      html`<span class="wf-note wf-error-message" title="${span.status.message}" data-field="error-message">${span.status.message}</span>`,
  ];
  return html`<li
    id="${spanAnchor(span.spanId)}"
    class="${classes}"
    data-testid="span-row"
    data-span-id="${span.spanId}"
    data-depth="${depth}"
    ${ofJob ? html` data-job-span` : ''}
  >
    <details>
      <summary class="wf-summary">
        <span class="wf-name"
          >${indent}<span class="wf-caret" aria-hidden="true"></span>${serviceTag(serviceName(span.resource), colour)}
          <span class="span-name" title="${span.name}" data-field="span-name">${span.name}</span>
          <span class="kind">${span.kind}</span>${notes}</span
        >
        <span>${spanStatusBadge(span)}</span>
        <span class="num" data-field="duration">${formatSpanDuration(spanDurationUs(span))}</span>
        ${bar(span, axis, colour)}
      </summary>
      ${spanDetails(ctx, span, axis.startUs)}
    </details>
  </li>`;
}

/** The span's extent on the trace's axis (at least a sliver, so a zero-length span is seen), with a tick for each exception. */
function bar(span: SpanRecord, axis: { readonly startUs: number; readonly totalUs: number }, colour: string | undefined): SafeHtml {
  const at = (us: number) => Math.round(((us - axis.startUs) / axis.totalUs) * AXIS * 10) / 10;
  const x = Math.min(at(span.startUs), AXIS - 2);
  const width = Math.max(2, Math.round(Math.min(at(span.endUs) - x, AXIS - x) * 10) / 10);
  const ticks = span.events
    .filter((event) => event.name === 'exception')
    .map((event) => html`<rect class="wf-tick" x="${Math.min(at(event.timeUs), AXIS - 3)}" y="0" width="3" height="12"></rect>`);
  return html`<svg class="wf-bar" viewBox="0 0 ${AXIS} 12" preserveAspectRatio="none" aria-hidden="true" focusable="false">
    <rect class="${colour ?? 'svc-none'}" x="${x}" y="2" width="${width}" height="8"></rect>
    ${ticks}
  </svg>`;
}
