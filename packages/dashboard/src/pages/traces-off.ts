import type { PageContext } from '../html/context.ts';
import type { Page } from '../html/layout.ts';
import { html } from '../html/template.ts';

/** The traces and tasks pages of a dashboard that receives no traces: how to turn them on. */
export function tracesOff(ctx: PageContext, section: 'traces' | 'tasks'): Page {
  const title = section === 'traces' ? 'Traces' : 'Tasks';
  const body = html`<div class="page-head"><h1>${title}</h1></div>
    <section class="card" data-testid="traces-off">
      <p>
        This dashboard does not receive traces, so it has none to
        show${section === 'tasks' ? ' (in-process tasks are seen through their BackgroundTask.* spans only)' : ''}.
      </p>
      <p>
        Turn the receiver on with <code>createDashboard({ store, traces: { store: createSqliteTraceStore({ path: 'traces.db' }) } })</code>,
        or run <code>pilotlight dashboard</code>, which has it on. Then start the application's processes with
        <code>OTEL_EXPORTER_OTLP_ENDPOINT=<span data-origin>http://&lt;this host&gt;</span>${ctx.links.to('')}</code>.
      </p>
    </section>`;
  return { title, section: undefined, body };
}
