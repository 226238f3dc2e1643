import type { ErrorDetails, JobRecord, StateRecord } from 'pilotlight';
import type { PageContext } from '../html/context.ts';
import { stateBadge, timeTag } from '../html/elements.ts';
import { formatCount } from '../html/format.ts';
import { html, type HtmlValue, type SafeHtml } from '../html/template.ts';

/**
 * A failed job's last exception, at the top of its page (as Hangfire's failed-job page shows it):
 * its type, message and stack, from the last history entry with an error. Nothing for a job in
 * another state, or one whose history holds no error.
 */
export function failureCard(ctx: PageContext, job: JobRecord, history: readonly StateRecord[]): SafeHtml | undefined {
  const failed = job.state === 'Failed' ? history.findLast((entry) => entry.error !== undefined) : undefined;
  if (!failed?.error) return undefined;
  const { type, message, stack } = failed.error;
  return html`<section class="card failure" data-testid="failure" aria-labelledby="failure-title">
    <div class="failure-head">
      <h2 id="failure-title">Last exception</h2>
      <span class="muted">thrown ${timeTag(failed.at, ctx.now)}</span>
    </div>
    <p class="failure-error"><strong class="exception-type">${type}</strong>: <span class="exception-message">${message}</span></p>
    ${
      stack
        ? html`<details class="failure-stack" open>
            <summary>Stack trace</summary>
            <pre class="code stack">${stack}</pre>
          </details>`
        : ''
    }
  </section>`;
}

/** The history, oldest first, as a timeline; a failed attempt's entry shows its exception. */
export function timeline(ctx: PageContext, history: readonly StateRecord[]): SafeHtml {
  if (history.length === 0) return html`<p class="muted">No history.</p>`;
  const entries = history.map((entry) => {
    const details: HtmlValue[] = [
      entry.serverName && html`<span>on <strong>${entry.serverName}</strong></span>`,
      entry.attempt !== undefined && html`<span>attempt ${formatCount(entry.attempt)}</span>`,
      entry.runAt && html`<span>due ${timeTag(entry.runAt, ctx.now)}</span>`,
    ];
    return html`<li class="entry state-${entry.name}" data-testid="history-entry">
      <div class="entry-head">${stateBadge(entry.name)} ${timeTag(entry.at, ctx.now)} ${details}</div>
      ${entry.reason ? html`<p class="reason-text">${entry.reason}</p>` : ''}${entry.error ? exception(entry.error) : ''}
    </li>`;
  });
  return html`<ol class="timeline">
    ${entries}
  </ol>`;
}

function exception(error: ErrorDetails): SafeHtml {
  return html`<div class="exception" data-testid="exception">
    <p><strong class="exception-type">${error.type}</strong>: <span class="exception-message">${error.message}</span></p>
    ${error.stack ? html`<pre class="code stack">${error.stack}</pre>` : ''}
  </div>`;
}
