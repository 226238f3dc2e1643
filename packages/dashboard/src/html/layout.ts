import type { PageContext } from './context.ts';
import { html, type SafeHtml } from './template.ts';

export type Section = 'overview' | 'jobs' | 'recurring' | 'workers' | 'queues' | 'traces' | 'tasks';

export interface Page {
  readonly title: string;
  /** The navigation entry marked current. */
  readonly section: Section | undefined;
  readonly body: SafeHtml;
  /**
   * The HTTP status: a page can answer 404 (an unknown trace) or 400 (a query that does not parse,
   * shown with the form to correct it) and still be a whole page.
   * @default 200
   */
  readonly status?: number;
}

/**
 * The document around every page: one stylesheet and one deferred script from `/assets/`, nothing
 * inline (the Content-Security-Policy allows neither inline scripts nor inline styles), no request
 * anywhere else (the icon is an empty `data:` URL, so the browser does not ask for `/favicon.ico`).
 */
export function layout(ctx: PageContext, page: Page): SafeHtml {
  const { links } = ctx;
  const nav: [Section, string, string][] = [
    ['overview', 'Overview', links.overview()],
    ['jobs', 'Jobs', links.to('/jobs')],
    ['recurring', 'Recurring', links.recurring()],
    ['workers', 'Workers', links.workers()],
    ['queues', 'Queues', links.queues()],
  ];
  // Only a dashboard that receives traces has something to show on these two.
  if (ctx.traces) nav.push(['traces', 'Traces', links.traces()], ['tasks', 'Tasks', links.tasks()]);
  const navLinks = nav.map(
    ([section, label, href]) => html`<a href="${href}" ${section === page.section ? html` aria-current="page"` : ''}>${label}</a>`,
  );
  const banner = ctx.readOnly
    ? html`<p class="banner" role="note" data-testid="read-only-banner">Read-only: this dashboard shows jobs but does not change them.</p>`
    : '';
  const flash = ctx.flash ? html`<p class="flash flash-${ctx.flash.kind}" role="status" data-testid="flash">${ctx.flash.text}</p>` : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · Pilotlight</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="${links.asset('dashboard.css')}" />
        <script src="${links.asset('dashboard.js')}" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="${links.overview()}">Pilotlight</a>
          <nav aria-label="Sections">${navLinks}</nav>
        </header>
        ${banner}
        <main id="main">${flash} ${page.body}</main>
      </body>
    </html> `;
}
