import type { JobRecord, StateName, Store } from 'pilotlight';
import { actionApplies, type JobAction } from '../actions/applies.ts';
import { LIMITS } from '../config/defaults.ts';
import { STATE_NAMES, totalOf } from '../data/overview.ts';
import type { PageContext } from '../html/context.ts';
import { formFields } from '../html/elements.ts';
import { formatCount, plural } from '../html/format.ts';
import type { Page } from '../html/layout.ts';
import type { JobsFilter } from '../html/links.ts';
import { html, type SafeHtml } from '../html/template.ts';
import { jobTable } from './job-table.ts';

interface JobsList {
  readonly jobs: readonly JobRecord[];
  /** Where the next (older) page starts; `undefined` on the last page. */
  readonly next: string | undefined;
}

/**
 * Jobs of one state (or all), newest first, `LIMITS.pageSize` a page with an "Older" link (keyset:
 * `before` = the page's last id); filtered by queue and type; searched with `q` (a bounded scan,
 * which says how far it looked). Checkboxes and buttons for bulk actions on the selection or on
 * everything the filter matches.
 */
export async function jobsPage(ctx: PageContext, store: Store<unknown>, filter: JobsFilter): Promise<Page> {
  const scope = { ...(filter.queue && { queue: filter.queue }), ...(filter.type && { type: filter.type }) };
  const query = { ...scope, ...(filter.state && { state: filter.state }), ...(filter.before && { before: filter.before }) };
  const [counts, queues, list] = await Promise.all([
    store.countJobs(scope),
    store.queueStats(),
    filter.q
      ? store.searchJobs({ ...query, text: filter.q, limit: LIMITS.pageSize })
      : store.listJobs({ ...query, limit: LIMITS.pageSize + 1 }).then((jobs): JobsList => ({
          jobs: jobs.slice(0, LIMITS.pageSize),
          next: jobs.length > LIMITS.pageSize ? jobs[LIMITS.pageSize - 1]!.id : undefined,
        })),
  ]);
  const inTab = totalOf(counts, filter.state === undefined ? STATE_NAMES : [filter.state]);
  const body = html`<div class="page-head"><h1>Jobs</h1></div>
    ${tabs(ctx, filter, counts)} ${filters(ctx, filter, queues.map((stats) => stats.queue).sort())} ${bulkBar(ctx, filter, inTab)}
    ${jobTable(ctx, list.jobs, {
      selectable: !ctx.readOnly && tabActions(filter).length > 0,
      due: filter.state === 'Scheduled',
      empty: filter.q ? 'No job matches this search in the jobs examined.' : 'No jobs here.',
    })}
    ${pager(ctx, filter, list)}`;
  return { title: filter.state === undefined ? 'All jobs' : `${filter.state} jobs`, section: 'jobs', body };
}

function tabs(ctx: PageContext, filter: JobsFilter, counts: Record<StateName, number>): SafeHtml {
  const tab = (state: StateName | undefined, label: string, count: number) => {
    const current = state === filter.state ? html` aria-current="page"` : '';
    const href = ctx.links.jobs({ ...filter, state, before: undefined });
    return html`<a class="tab${state ? ` tab-${state}` : ''}" href="${href}" ${current}
      >${label} <span class="count">${formatCount(count)}</span></a
    >`;
  };
  return html`<nav class="tabs" aria-label="States">
    ${STATE_NAMES.map((state) => tab(state, state, counts[state] ?? 0))}${tab(undefined, 'All', totalOf(counts))}
  </nav>`;
}

function filters(ctx: PageContext, filter: JobsFilter, queues: readonly string[]): SafeHtml {
  const known = filter.queue && !queues.includes(filter.queue) ? [...queues, filter.queue] : queues;
  const options = known.map((queue) => html`<option value="${queue}" ${queue === filter.queue ? html` selected` : ''}>${queue}</option>`);
  return html`<form class="filters" method="get" action="${ctx.links.to('/jobs')}" role="search">
    <input type="hidden" name="state" value="${filter.state ?? 'all'}" />
    <label
      >Queue
      <select name="queue">
        <option value="">All queues</option>
        ${options}
      </select></label
    >
    <label>Type <input name="type" value="${filter.type ?? ''}" maxlength="${LIMITS.maxParamLength}" placeholder="email.send" /></label>
    <label
      >Search
      <input type="search" name="q" value="${filter.q ?? ''}" maxlength="${LIMITS.maxParamLength}" placeholder="id, type or argument text"
    /></label>
    <button type="submit" class="button">Filter</button>
    <a class="reset" href="${ctx.links.jobs({ state: filter.state })}">Reset</a>
  </form>`;
}

/** The actions that make sense on this tab: no requeue of enqueued or running jobs, no delete of deleted ones. */
function tabActions(filter: JobsFilter): JobAction[] {
  return (['requeue', 'delete'] as const).filter((action) => filter.state === undefined || actionApplies(action, filter.state));
}

function bulkBar(ctx: PageContext, filter: JobsFilter, inTab: number): SafeHtml | '' {
  if (ctx.readOnly) return '';
  const actions = tabActions(filter);
  if (actions.length === 0) return '';
  const label = (action: JobAction) => (action === 'requeue' ? 'Requeue' : 'Delete');
  const tone = (action: JobAction) => (action === 'delete' ? 'button danger' : 'button');
  const selected = actions.map(
    (action) =>
      html`<button type="submit" class="${tone(action)}" name="action" value="${action}" data-testid="bulk-${action}" data-needs-selection>
        ${label(action)} selected
      </button>`,
  );
  const selection = html`<form id="bulk-selection" class="inline" method="post" action="${ctx.links.bulk()}">
    ${formFields(ctx)}${selected}
  </form>`;
  // Everything the filter matches: not offered for a search, which is not a filter the store can count.
  const everything =
    filter.q || inTab === 0
      ? ''
      : html`<form class="inline" method="post" action="${ctx.links.bulk()}">
          ${formFields(ctx)}<input type="hidden" name="scope" value="filter" /><input
            type="hidden"
            name="state"
            value="${filter.state ?? 'all'}"
          />${filter.queue ? html`<input type="hidden" name="queue" value="${filter.queue}" />` : ''}${filter.type ? html`<input type="hidden" name="type" value="${filter.type}" />` : ''}${actions.map(
            (action) =>
              html`<button type="submit" class="${tone(action)}" name="action" value="${action}" data-testid="bulk-filter-${action}">
                ${label(action)} all ${plural(inTab, 'job')}…
              </button>`,
          )}
        </form>`;
  return html`<div class="bulk" role="group" aria-label="Bulk actions">${selection}${everything}</div>`;
}

function pager(ctx: PageContext, filter: JobsFilter, list: JobsList): SafeHtml {
  const newest = filter.before ? html`<a href="${ctx.links.jobs({ ...filter, before: undefined })}">Newest</a>` : '';
  if (filter.q) {
    const status =
      list.next === undefined
        ? html`<span class="muted">Searched down to the oldest job.</span>`
        : html`<span class="muted">Examined up to job ${list.next}</span> —
            <a href="${ctx.links.jobs({ ...filter, before: list.next })}" rel="next">search older</a>`;
    return html`<p class="pager">${newest} ${status}</p>`;
  }
  const older = list.next === undefined ? '' : html`<a href="${ctx.links.jobs({ ...filter, before: list.next })}" rel="next">Older</a>`;
  return html`<p class="pager">${newest} ${older}</p>`;
}
