import { ValidationError } from 'pilotlight';
import { TRACE_LIMITS } from '../config/defaults.ts';
import type { DashboardConfig } from '../config/options.ts';
import type { PageContext } from '../html/context.ts';
import type { Page } from '../html/layout.ts';
import type { TracesFilter } from '../html/links.ts';
import { html, type SafeHtml } from '../html/template.ts';
import type { SpanCondition } from '../spans/conditions.ts';
import { formatTraceQuery, parseTraceQuery } from '../traces/query/parse-query.ts';
import { spanPager } from './span-pager.ts';
import { spanTable } from './span-table.ts';
import { tracesOff } from './traces-off.ts';

/** The README's queries ("Viewing traces"), one click each: they run as written. */
const EXAMPLE_QUERIES: readonly { readonly label: string; readonly q: string }[] = [
  { label: 'Failed executions', q: 'name LIKE "process %" AND status = ERROR' },
  { label: 'Slow executions (> 5 min)', q: 'name LIKE "process %" AND duration > 5m' },
  { label: 'One job type', q: 'pilotlight.job.type = "TenantService"' },
  { label: 'Failed tasks', q: 'name LIKE "BackgroundTask.%" AND task.status = "Failed"' },
  { label: 'Slow tasks (> 5 min)', q: 'task.duration_ms > 300000' },
  { label: 'One task type', q: 'task.type = "MetadataScanTask"' },
];

/**
 * `/traces`: the spans a query matches, newest first, or without a query the recent traces (their
 * root spans), of one service or all, a page at a time. A query that does not parse is shown again
 * in the form, with the parser's message (status 400), so it can be corrected.
 */
export async function tracesPage(ctx: PageContext, config: DashboardConfig, filter: TracesFilter): Promise<Page> {
  if (config.traces === undefined) return tracesOff(ctx, 'traces');
  const { store } = config.traces;
  let conditions: SpanCondition[];
  try {
    conditions = parseTraceQuery(filter.q ?? '');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const body = html`${head()} ${form(ctx, filter, await store.listServices())}
      <p class="flash flash-error" role="alert" data-testid="query-error">${error.message}</p>
      ${examples(ctx)}`;
    return { title: 'Traces', section: 'traces', body, status: 400 };
  }
  const where: SpanCondition[] = filter.service ? [...conditions, { field: 'service', op: '=', value: filter.service }] : conditions;
  const recent = conditions.length === 0;
  const [services, page] = await Promise.all([
    store.listServices(),
    store.findSpans({
      where,
      rootsOnly: recent,
      ...(filter.before && { before: filter.before }),
      limit: TRACE_LIMITS.spanPageSize,
      scanLimit: TRACE_LIMITS.scanLimit,
    }),
  ]);
  const what = recent
    ? html`<p class="muted" data-testid="results-title">
        Recent traces${filter.service ? html` of <strong>${filter.service}</strong>` : ''}: their root spans, newest first.
      </p>`
    : html`<p class="muted" data-testid="results-title">
        Spans matching
        <code data-testid="normalized-query">${formatTraceQuery(conditions)}</code
        >${filter.service ? html` in <strong>${filter.service}</strong>` : ''}, newest first.
      </p>`;
  const nothing = recent ? 'No traces received yet.' : 'No span matches this query in the spans examined.';
  const body = html`${head()} ${form(ctx, filter, services)} ${examples(ctx)} ${what} ${spanTable(ctx, page.spans, nothing)}
  ${spanPager(page, TRACE_LIMITS.scanLimit, (before) => ctx.links.traces({ ...filter, before }), filter.before !== undefined)}`;
  return { title: 'Traces', section: 'traces', body };
}

function head(): SafeHtml {
  return html`<div class="page-head"><h1>Traces</h1></div>`;
}

function form(ctx: PageContext, filter: TracesFilter, services: readonly string[]): SafeHtml {
  const known = filter.service && !services.includes(filter.service) ? [...services, filter.service] : services;
  const options = known.map(
    (service) => html`<option value="${service}" ${service === filter.service ? html` selected` : ''}>${service}</option>`,
  );
  return html`<form class="filters query-form" method="get" action="${ctx.links.traces()}" role="search">
      <label class="query-label"
        >Query
        <input
          type="search"
          name="q"
          value="${filter.q ?? ''}"
          maxlength="${TRACE_LIMITS.maxQueryLength}"
          placeholder='name LIKE "process %" AND status = ERROR'
          aria-describedby="query-help"
          spellcheck="false"
          data-testid="query-input"
      /></label>
      <label
        >Service
        <select name="service" data-testid="service-select">
          <option value="">All services</option>
          ${options}
        </select></label
      >
      <button type="submit" class="button">Search</button>
      <a class="reset" href="${ctx.links.traces()}">Reset</a>
    </form>
    <p id="query-help" class="muted query-help">
      Conditions joined by <code>AND</code>: <code>name</code>, <code>service</code>, <code>kind</code>, <code>status</code>,
      <code>duration</code> (<code>5m</code>, <code>300ms</code>), <code>trace</code> or any attribute (<code>task.status</code>), with
      <code>= != &gt; &gt;= &lt; &lt;= LIKE NOT LIKE</code> (<code>%</code> matches anything); strings in double quotes.
    </p>`;
}

function examples(ctx: PageContext): SafeHtml {
  return html`<p class="examples" data-testid="example-queries">
    <span class="muted">Examples:</span>
    ${EXAMPLE_QUERIES.map(
      (example) =>
        html`<a href="${ctx.links.traces({ q: example.q })}" title="${example.q}" data-testid="example-query">${example.label}</a>`,
    )}
  </p>`;
}
