import { serviceName, type SpanRecord } from '../spans/model.ts';
import { html, type SafeHtml } from './template.ts';

/** Colours of services (`svc-0`…`svc-5` in the stylesheet): a fixed palette, reused past its end. */
const PALETTE_SIZE = 6;

/**
 * The colour class of each service, by order of first appearance in `spans` (one trace, in the
 * order it is shown): the same service keeps its colour on every row of the page.
 */
export function serviceColours(spans: readonly SpanRecord[]): ReadonlyMap<string, string> {
  const colours = new Map<string, string>();
  for (const span of spans) {
    const service = serviceName(span.resource);
    if (!colours.has(service)) colours.set(service, `svc-${colours.size % PALETTE_SIZE}`);
  }
  return colours;
}

/** A service's name, in its colour. */
export function serviceTag(service: string, colour: string | undefined): SafeHtml {
  return html`<span class="svc ${colour ?? 'svc-none'}" title="${service}" data-field="service">${service}</span>`;
}

/** A span's status: `Error` (with its message as the title) marked in red, `OK` in green, `unset` muted. */
export function spanStatusBadge(span: SpanRecord): SafeHtml {
  const { code, message } = span.status;
  if (code === 'error') {
    return html`<span class="state tone-error" title="${message ?? 'Error'}" data-field="status">Error</span>`;
  }
  return code === 'ok'
    ? html`<span class="state tone-ok" data-field="status">OK</span>`
    : html`<span class="state tone-muted" data-field="status">unset</span>`;
}

/** `task.status` as a badge: `Completed` green, `Failed` red, `Cancelled` grey, anything else plain. */
export function taskStatusBadge(status: string | undefined): SafeHtml {
  const tone = status === 'Completed' ? 'tone-ok' : status === 'Failed' ? 'tone-error' : 'tone-muted';
  return html`<span class="state ${tone}" data-field="task-status">${status ?? 'unknown'}</span>`;
}

/** The id of the job a span belongs to (`pilotlight.job.id`, or `hangfire.job.id` with that attribute namespace). */
export function spanJobId(span: SpanRecord): string | undefined {
  for (const key of ['pilotlight.job.id', 'hangfire.job.id']) {
    const value = span.attributes[key];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

/** The `id` attribute of a span's row in a waterfall, which `Links.trace(traceId, spanId)` links to. */
export function spanAnchor(spanId: string): string {
  return `span-${spanId}`;
}
