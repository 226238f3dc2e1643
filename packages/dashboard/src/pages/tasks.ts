import { LIMITS, TRACE_LIMITS } from '../config/defaults.ts';
import type { DashboardConfig } from '../config/options.ts';
import type { PageContext } from '../html/context.ts';
import { emptyRow, timeTag } from '../html/elements.ts';
import type { Page } from '../html/layout.ts';
import type { TasksFilter } from '../html/links.ts';
import { taskStatusBadge } from '../html/span-elements.ts';
import { attributeText, formatSpanDuration, spanDurationUs } from '../html/span-format.ts';
import { html, type SafeHtml } from '../html/template.ts';
import type { SpanCondition } from '../spans/conditions.ts';
import type { SpanRecord } from '../spans/model.ts';
import { spanPager } from './span-pager.ts';
import { tracesOff } from './traces-off.ts';

/** The final `task.status` values, each with its tab. */
export const TASK_STATUSES = ['Completed', 'Failed', 'Cancelled'] as const;

/**
 * `/tasks`: in-process tasks have no store, so this page is built from their spans
 * (`BackgroundTask.{TaskType}`, one per task, with `task.*` attributes): type, name, final status,
 * running time, start, the exception of a failed one, and its trace; newest first, by status tab
 * and type.
 */
export async function tasksPage(ctx: PageContext, config: DashboardConfig, filter: TasksFilter): Promise<Page> {
  if (config.traces === undefined) return tracesOff(ctx, 'tasks');
  const where: SpanCondition[] = [{ field: 'name', op: 'LIKE', value: 'BackgroundTask.%' }];
  if (filter.type) where.push({ field: 'attribute', key: 'task.type', op: '=', value: filter.type });
  if (filter.status) where.push({ field: 'attribute', key: 'task.status', op: '=', value: filter.status });
  const page = await config.traces.store.findSpans({
    where,
    ...(filter.before && { before: filter.before }),
    limit: TRACE_LIMITS.spanPageSize,
    scanLimit: TRACE_LIMITS.scanLimit,
  });
  const body = html`<div class="page-head"><h1>Tasks</h1></div>
    ${tabs(ctx, filter)} ${typeForm(ctx, filter)} ${taskTable(ctx, page.spans)}
    ${spanPager(page, TRACE_LIMITS.scanLimit, (before) => ctx.links.tasks({ ...filter, before }), filter.before !== undefined)}`;
  return { title: filter.status ? `${filter.status} tasks` : 'Tasks', section: 'tasks', body };
}

function tabs(ctx: PageContext, filter: TasksFilter): SafeHtml {
  const tab = (status: string | undefined, label: string) => {
    const current = status === filter.status ? html` aria-current="page"` : '';
    return html`<a class="tab" href="${ctx.links.tasks({ type: filter.type, status })}" ${current}>${label}</a>`;
  };
  return html`<nav class="tabs" aria-label="Task status">
    ${tab(undefined, 'All')}${TASK_STATUSES.map((status) => tab(status, status))}
  </nav>`;
}

function typeForm(ctx: PageContext, filter: TasksFilter): SafeHtml {
  return html`<form class="filters" method="get" action="${ctx.links.tasks()}" role="search">
    ${filter.status ? html`<input type="hidden" name="status" value="${filter.status}" />` : ''}
    <label
      >Type
      <input
        name="type"
        value="${filter.type ?? ''}"
        maxlength="${LIMITS.maxParamLength}"
        placeholder="MetadataScanTask"
        data-testid="task-type-input"
    /></label>
    <button type="submit" class="button">Filter</button>
    <a class="reset" href="${ctx.links.tasks({ status: filter.status })}">Reset</a>
  </form>`;
}

function taskTable(ctx: PageContext, spans: readonly SpanRecord[]): SafeHtml {
  const rows = spans.map((span) => {
    const text = (key: string) => {
      const value = span.attributes[key];
      return value === undefined || value === null ? undefined : attributeText(value);
    };
    const type = text('task.type') ?? span.name.replace(/^BackgroundTask\./, '');
    const duration = span.attributes['task.duration_ms'];
    const exception = taskException(span);
    return html`<tr data-testid="task-row" data-span-id="${span.spanId}">
      <td>
        <a href="${ctx.links.tasks({ type })}"><code>${type}</code></a>
      </td>
      <td class="wrap">${text('task.name') ?? html`<span class="muted">—</span>`}</td>
      <td>${taskStatusBadge(text('task.status'))}</td>
      <td class="num">${formatSpanDuration(typeof duration === 'number' ? duration * 1000 : spanDurationUs(span))}</td>
      <td class="nowrap">${timeTag(new Date(span.startUs / 1000), ctx.now)}</td>
      <td class="wrap">
        ${exception ? html`<span class="reason" title="${exception}" data-field="task-exception">${exception}</span>` : ''}
      </td>
      <td><a href="${ctx.links.trace(span.traceId, span.spanId)}" data-testid="task-trace-link">Trace</a></td>
    </tr>`;
  });
  return html`<div class="table-wrap">
    <table class="tasks">
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">Name</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">Duration</th>
          <th scope="col">Started</th>
          <th scope="col">Exception</th>
          <th scope="col">Trace</th>
        </tr>
      </thead>
      <tbody>
        ${rows.length === 0 ? emptyRow(7, 'No task spans here.') : rows}
      </tbody>
    </table>
  </div>`;
}

/** A failed task's error: `exception.message` on the span, else its `exception` event's, else its status message. */
function taskException(span: SpanRecord): string | undefined {
  const fromSpan = span.attributes['exception.message'];
  if (typeof fromSpan === 'string' && fromSpan !== '') return fromSpan;
  const fromEvent = span.events.find((event) => event.name === 'exception')?.attributes['exception.message'];
  if (typeof fromEvent === 'string' && fromEvent !== '') return fromEvent;
  // A cancelled task has status ERROR too ("Task was cancelled"), but no exception.
  return span.attributes['task.status'] === 'Failed' ? span.status.message : undefined;
}
