import type { Store } from 'pilotlight';
import type { PageContext } from '../html/context.ts';
import { actionButton, emptyRow, jobName, timeTag } from '../html/elements.ts';
import type { Page } from '../html/layout.ts';
import { recurringAnchor } from '../html/links.ts';
import { html } from '../html/template.ts';

/**
 * Recurring jobs: schedule, time zone, misfire policy, last and next run, the last job; trigger now,
 * remove. The schedule and the times stay on one line each: a long id wraps instead.
 */
export async function recurringPage(ctx: PageContext, store: Store<unknown>): Promise<Page> {
  const { links, now } = ctx;
  const recurring = [...(await store.listRecurring())].sort((a, b) => a.id.localeCompare(b.id));
  const rows = recurring.map((job) => {
    const actions = [
      actionButton(ctx, { action: links.recurringAction(job.id, 'trigger'), label: 'Trigger now', testId: 'recurring-trigger' }),
      actionButton(ctx, { action: links.recurringAction(job.id, 'remove'), label: 'Remove', testId: 'recurring-remove', tone: 'danger' }),
    ];
    const lastJob =
      job.lastJobId === undefined ? html`<span class="muted">—</span>` : html`<a href="${links.job(job.lastJobId)}">${job.lastJobId}</a>`;
    return html`<tr id="${recurringAnchor(job.id)}" data-testid="recurring-row" data-recurring-id="${job.id}">
      <th scope="row" class="wrap"><code>${job.id}</code></th>
      <td class="nowrap"><code>${job.cron}</code></td>
      <td class="nowrap">${job.timeZone}</td>
      <td class="nowrap">${job.misfire}</td>
      <td><code>${jobName(job)}</code></td>
      <td>${job.queue}</td>
      <td class="nowrap">${timeTag(job.nextRunAt, now)}</td>
      <td class="nowrap">${timeTag(job.lastRunAt, now)}</td>
      <td>${lastJob}</td>
      ${ctx.readOnly ? '' : html`<td class="actions">${actions}</td>`}
    </tr>`;
  });
  const columns = ctx.readOnly ? 9 : 10;
  const body = html`<div class="page-head"><h1>Recurring jobs</h1></div>
    <div class="table-wrap">
      <table class="recurring">
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Cron</th>
            <th scope="col">Time zone</th>
            <th scope="col">Misfire</th>
            <th scope="col">Job</th>
            <th scope="col">Queue</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
            <th scope="col">Last job</th>
            ${ctx.readOnly ? '' : html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}
          </tr>
        </thead>
        <tbody>
          ${rows.length === 0 ? emptyRow(columns, 'No recurring jobs. Add one with client.recurring.addOrUpdate().') : rows}
        </tbody>
      </table>
    </div>`;
  return { title: 'Recurring jobs', section: 'recurring', body };
}
