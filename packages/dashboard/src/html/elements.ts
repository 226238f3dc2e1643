import type { StateName } from 'pilotlight';
import type { PageContext } from './context.ts';
import { formatAbsolute, formatRelative } from './format.ts';
import { html, type HtmlValue, type SafeHtml } from './template.ts';

/** A relative time (`3 min ago`) with the absolute one in its title; a dash without a date. */
export function timeTag(date: Date | undefined, now: Date): SafeHtml {
  if (date === undefined) return html`<span class="muted">—</span>`;
  return html`<time datetime="${date.toISOString()}" title="${formatAbsolute(date)}">${formatRelative(date, now)}</time>`;
}

/** A job state as a coloured label. */
export function stateBadge(state: StateName, testId?: string): SafeHtml {
  const testIdAttribute = testId === undefined ? '' : html` data-testid="${testId}"`;
  return html`<span class="state state-${state}" ${testIdAttribute}>${state}</span>`;
}

/** A job's type and method as its code would name it: `TenantService.provision`, or `email.send` for a function job. */
export function jobName(job: { readonly type: string; readonly method: string }): string {
  return job.method === '' ? job.type : `${job.type}.${job.method}`;
}

export interface ActionButton {
  /** The URL the form posts to. */
  readonly action: string;
  readonly label: string;
  readonly testId: string;
  /** `danger` for what cannot be undone. */
  readonly tone?: 'danger';
}

/** The hidden fields every dashboard form carries: the CSRF token and the page to return to. */
export function formFields(ctx: PageContext, returnTo = ctx.current): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}" /><input type="hidden" name="_return" value="${returnTo}" />`;
}

/** One action as a POST form of its own with one button, returning to this page (nothing in read-only mode). */
export function actionButton(ctx: PageContext, button: ActionButton): SafeHtml | undefined {
  if (ctx.readOnly) return undefined;
  return html`<form method="post" action="${button.action}" class="inline">
    ${formFields(ctx)}<button type="submit" class="${button.tone === 'danger' ? 'button danger' : 'button'}" data-testid="${button.testId}">
      ${button.label}
    </button>
  </form>`;
}

/** A table row saying there is nothing to show (`hidden`: kept for a script to show when the rows go). */
export function emptyRow(columns: number, text: HtmlValue, hidden = false): SafeHtml {
  return html`<tr class="empty" data-field="empty" ${hidden ? html` hidden` : ''}>
    <td colspan="${columns}">${text}</td>
  </tr>`;
}
