import type { JobRecord } from 'pilotlight';
import { TRACE_LIMITS } from '../config/defaults.ts';
import type { DashboardConfig } from '../config/options.ts';
import type { PageContext } from '../html/context.ts';
import { formatCount } from '../html/format.ts';
import { externalTraceLink } from '../html/links.ts';
import { html, type SafeHtml } from '../html/template.ts';
import { waterfall } from '../html/waterfall.ts';

/** W3C Trace Context `traceparent`: version, trace id, parent span id, flags. */
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/**
 * The job's trace, found through the trace context stored with it (`metadata.traceparent`): the
 * whole trace as a waterfall (the request that created the job, the creation span, every attempt
 * and transition, the handler's spans, from every process), the job's own spans highlighted. When
 * the trace is not in the store, or the dashboard receives no traces, it says so and how to change it.
 */
export async function jobTraceSection(ctx: PageContext, config: DashboardConfig, job: JobRecord): Promise<SafeHtml> {
  const match = TRACEPARENT.exec(job.metadata.traceparent ?? '');
  if (!match) {
    return section(
      html`<p class="muted" data-testid="trace">
        No trace context was stored with this job: no OpenTelemetry SDK was recording (or tracing was off) when it was created.
      </p>`,
    );
  }
  const [, traceId = '', spanId = ''] = match;
  const created = html`Trace <code>${traceId}</code> (created in span <code>${spanId}</code>)`;
  if (config.traces === undefined) {
    return section(
      html`<p data-testid="trace">
        ${created}. To see it here, let the dashboard receive traces: <code>createDashboard({ traces: { store } })</code> with
        <code>createSqliteTraceStore({ path })</code>, or run <code>pilotlight dashboard</code>, which receives them.
      </p>`,
    );
  }
  const { spans, truncated } = await config.traces.store.getTrace(traceId, TRACE_LIMITS.maxTraceSpans);
  if (spans.length === 0) {
    return section(
      html`<div data-testid="trace">
        <p>Trace <code>${traceId}</code> is not in the trace store (yet): its spans have not been received.</p>
        <p class="muted">
          Send them here by starting the application's processes with
          <code data-testid="otlp-endpoint"
            >OTEL_EXPORTER_OTLP_ENDPOINT=<span data-origin>http://&lt;this host&gt;</span>${ctx.links.to('')}</code
          >
          (the exporters post to <code>${ctx.links.to('/v1/traces')}</code>); spans exported in batches arrive a few seconds late.
        </p>
      </div>`,
    );
  }
  const external = externalTraceLink(config.traces.externalUrl, traceId);
  return section(
    html`<div data-testid="trace">
      <p class="trace-links">
        <a href="${ctx.links.trace(traceId)}" data-testid="trace-link">Trace ${traceId}</a>
        ${external ? html` · <a href="${external.href}" rel="noreferrer" data-testid="external-trace-link">Open in ${external.host}</a>` : ''}
        ${truncated ? html` · <span class="muted" data-testid="trace-truncated">showing the first ${formatCount(spans.length)} spans</span>` : ''}
      </p>
      ${waterfall(ctx, spans, { highlightJobId: job.id })}
    </div>`,
  );
}

function section(content: SafeHtml): SafeHtml {
  return html`<section class="card" aria-labelledby="trace-title">
    <h2 id="trace-title">Trace</h2>
    ${content}
  </section>`;
}
