import type { PageContext } from '../html/context.ts';
import type { Page } from '../html/layout.ts';
import { html } from '../html/template.ts';

/** What a refused or failed request shows: the status, why, and the way back. */
export function errorPage(ctx: PageContext, status: number, title: string, message: string): Page {
  const body = html`<div class="page-head"><h1>${title}</h1></div>
    <section class="card error-card">
      <p data-testid="error-message">${message}</p>
      <p class="muted">HTTP ${status}</p>
      <p><a href="${ctx.links.overview()}">Back to the overview</a></p>
    </section>`;
  return { title, section: undefined, body };
}
