import type { JobAction } from '../actions/applies.ts';
import type { BulkEstimate, BulkTarget } from '../actions/bulk.ts';
import type { PageContext } from '../html/context.ts';
import { formFields } from '../html/elements.ts';
import { plural } from '../html/format.ts';
import type { Page } from '../html/layout.ts';
import { html, type SafeHtml } from '../html/template.ts';

/**
 * The answer to a bulk POST without `confirm`: how many jobs it will change, and the same form
 * again with `confirm=<count>` (and, for a filter, `upto`: the newest job counted).
 */
export function bulkConfirmPage(ctx: PageContext, action: JobAction, target: BulkTarget, estimate: BulkEstimate, returnTo: string): Page {
  const verb = action === 'requeue' ? 'Requeue' : 'Delete';
  const what =
    target.kind === 'ids' ? `${plural(estimate.count, 'selected job')}` : `${plural(estimate.count, 'job')} ${describeFilter(target)}`;
  const hidden = (name: string, value: string | undefined) =>
    value === undefined ? '' : html`<input type="hidden" name="${name}" value="${value}" />`;
  const targetFields: SafeHtml =
    target.kind === 'ids'
      ? html`${target.ids.map((id) => hidden('id', id))}`
      : html`${hidden('scope', 'filter')}${hidden('state', target.state ?? 'all')}${hidden('queue', target.queue)}${hidden('type', target.type)}${hidden('upto', estimate.upto)}`;
  const consequence =
    action === 'requeue'
      ? 'Each job is enqueued again now; its history records the requeue.'
      : 'Each job is moved to Deleted: it will not run again, and a running one is asked to stop.';
  const form =
    estimate.count === 0
      ? html`<p>Nothing to ${action}: no job matches any more.</p>
          <p><a class="button" href="${ctx.links.to(returnTo)}">Back</a></p>`
      : html`<form method="post" action="${ctx.links.bulk()}" class="confirm">
          ${formFields(ctx, returnTo)}<input type="hidden" name="action" value="${action}" />${targetFields}<input
            type="hidden"
            name="confirm"
            value="${estimate.count}"
          /><button type="submit" class="${action === 'delete' ? 'button danger' : 'button'}" data-testid="bulk-confirm" autofocus>
            ${verb} ${plural(estimate.count, 'job')}
          </button>
          <a href="${ctx.links.to(returnTo)}">Cancel</a>
        </form>`;
  const body = html`<div class="page-head"><h1>${verb} ${what}?</h1></div>
    <section class="card">
      <p>${consequence}${target.kind === 'filter' ? ' Jobs that match only after this page was shown are left alone.' : ''}</p>
      ${form}
    </section>`;
  return { title: `${verb} ${plural(estimate.count, 'job')}?`, section: 'jobs', body };
}

function describeFilter(target: Extract<BulkTarget, { kind: 'filter' }>): string {
  const parts = [target.state ? `in state ${target.state}` : 'in every state'];
  if (target.queue) parts.push(`in queue ${target.queue}`);
  if (target.type) parts.push(`of type ${target.type}`);
  return parts.join(', ');
}
