import type { JobRecord } from 'pilotlight';
import type { PageContext } from '../html/context.ts';
import { emptyRow, jobName, stateBadge, timeTag } from '../html/elements.ts';
import { formatCount } from '../html/format.ts';
import { html, type SafeHtml } from '../html/template.ts';

export interface JobTableOptions {
  /** A checkbox per job, for the bulk actions' form (`bulk-selection`). */
  readonly selectable: boolean;
  /** The last column shows when each job is due rather than when its state changed (scheduled jobs). */
  readonly due: boolean;
  /** What the table says when there is no job. */
  readonly empty: string;
}

/** A table of jobs, a row each: id, job, queue, state and reason, attempt, created, state changed (or due). */
export function jobTable(ctx: PageContext, jobs: readonly JobRecord[], options: JobTableOptions): SafeHtml {
  const { selectable, due } = options;
  const head = html`<tr>
    ${selectable ? html`<th scope="col" class="select"><input type="checkbox" data-select-all hidden aria-label="Select every job on this page" /></th>` : ''}
    <th scope="col">Id</th>
    <th scope="col">Job</th>
    <th scope="col">Queue</th>
    <th scope="col">State</th>
    <th scope="col" class="num">Attempt</th>
    <th scope="col">Created</th>
    <th scope="col">${due ? 'Due' : 'State changed'}</th>
  </tr>`;
  const rows = jobs.map((job) => {
    const select = selectable
      ? html`<td class="select">
          <input
            type="checkbox"
            name="id"
            value="${job.id}"
            form="bulk-selection"
            data-testid="bulk-select"
            aria-label="Select job ${job.id}"
          />
        </td>`
      : '';
    const reason = job.stateReason ? html`<span class="reason" title="${job.stateReason}">${job.stateReason}</span>` : '';
    return html`<tr data-testid="job-row" data-job-id="${job.id}">
      ${select}
      <td><a href="${ctx.links.job(job.id)}">${job.id}</a></td>
      <td><a href="${ctx.links.job(job.id)}" class="job-name">${jobName(job)}</a></td>
      <td>${job.queue}</td>
      <td>${stateBadge(job.state)} ${reason}</td>
      <td class="num">${formatCount(job.attempt)}</td>
      <td>${timeTag(job.createdAt, ctx.now)}</td>
      <td>${timeTag(due ? job.runAt : job.stateChangedAt, ctx.now)}</td>
    </tr>`;
  });
  return html`<div class="table-wrap">
    <table class="jobs">
      <thead>
        ${head}
      </thead>
      <tbody>
        ${rows.length === 0 ? emptyRow(selectable ? 8 : 7, options.empty) : rows}
      </tbody>
    </table>
  </div>`;
}
