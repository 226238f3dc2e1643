import type { StateName } from 'pilotlight';
import type { QueueRow } from '../data/queue-rows.ts';
import type { PageContext } from '../html/context.ts';
import { actionButton, emptyRow } from '../html/elements.ts';
import { formatCount } from '../html/format.ts';
import { html, type SafeHtml } from '../html/template.ts';

const BLANK: QueueRow = {
  queue: '',
  href: '',
  counts: {} as QueueRow['counts'],
  oldestEnqueuedAt: null,
  oldestWaiting: '',
  oldestWaitingSince: '',
  paused: false,
  concurrencyLimit: null,
  rateLimit: null,
  concurrencyLimitText: null,
  rateLimitText: null,
  toggleAction: '',
};

/** A queue with every setting, whose parts the live table's script clones (it sets their texts and the forms' actions). */
const EVERY_SETTING: QueueRow = { ...BLANK, paused: true, concurrencyLimitText: '', rateLimitText: '' };

/**
 * The table of queues, with a column per state of `states`, the age of the oldest waiting job, the
 * queue's flow control (paused, concurrency and rate limits) and, unless read-only, its Pause or
 * Resume button. `live`: the overview's version, which its script keeps up to date: it adds rows by
 * cloning the `<template>` row rendered here, and fills the flow-control cell and the button cell
 * with clones of the parts of the second `<template>` (the badge, the limits, the dash, the Pause
 * and Resume forms with this page's CSRF token), so that the markup exists once.
 */
export function queueTable(ctx: PageContext, rows: readonly QueueRow[], states: readonly StateName[], live: boolean): SafeHtml {
  const head = states.map((state) => html`<th scope="col" class="num">${state}</th>`);
  const actions = !ctx.readOnly;
  const templates = live
    ? html`<template data-field="queue-row-template">${queueRow(ctx, BLANK, states, actions)}</template>
        <template data-field="queue-flow-parts"
          >${flowParts(EVERY_SETTING)}${NO_FLOW_CONTROL}${pauseButton(ctx, EVERY_SETTING)}${pauseButton(ctx, BLANK)}</template
        >`
    : '';
  return html`<div class="table-wrap">
    <table class="queues">
      <thead>
        <tr>
          <th scope="col">Queue</th>
          ${head}
          <th scope="col">Oldest waiting</th>
          <th scope="col">Flow control</th>
          ${actions ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}
        </tr>
      </thead>
      <tbody data-field="queue-rows">
        ${emptyRow(states.length + (actions ? 4 : 3), 'No queue holds jobs.', rows.length > 0)}${rows.map((row) =>
          queueRow(ctx, row, states, actions),
        )}
      </tbody>
    </table>
    ${templates}
  </div>`;
}

/** A queue's row; each count carries its state's name too (hidden on screen, read by screen readers and in copied text). */
function queueRow(ctx: PageContext, row: QueueRow, states: readonly StateName[], actions: boolean): SafeHtml {
  const cells = states.map(
    (state) =>
      html`<td class="num" data-state="${state}">
        <span class="cell-label">${state}</span> <span data-field="count">${formatCount(row.counts[state] ?? 0)}</span>
      </td>`,
  );
  return html`<tr data-testid="queue-row" data-queue="${row.queue}">
    <th scope="row"><a data-field="queue" href="${row.href}">${row.queue}</a></th>
    ${cells}
    <td data-field="oldest" title="${row.oldestWaitingSince}">${row.oldestWaiting}</td>
    <td data-testid="queue-flow">${row.queue === '' ? '' : flowControl(row)}</td>
    ${actions ? html`<td class="nowrap" data-field="queue-action">${row.queue === '' ? '' : pauseButton(ctx, row)}</td>` : ''}
  </tr>`;
}

/** What the flow-control cell shows when nothing limits the queue. */
const NO_FLOW_CONTROL = html`<span class="muted" data-testid="queue-no-flow">—</span>`;

/** What limits the queue: `Paused, at most 5 at once, 10 per 1 s`; a dash when nothing does. */
function flowControl(row: QueueRow): SafeHtml {
  const parts = flowParts(row);
  return parts.length === 0 ? NO_FLOW_CONTROL : html`${parts.map((part, i) => (i === 0 ? part : html`, ${part}`))}`;
}

/** The cell's parts: the Paused badge, the concurrency limit, the rate limit (those the queue has). */
function flowParts(row: QueueRow): SafeHtml[] {
  const parts: SafeHtml[] = [];
  if (row.paused) parts.push(html`<span class="state paused-badge" data-testid="queue-paused">Paused</span>`);
  if (row.concurrencyLimitText !== null) {
    parts.push(
      html`<span data-testid="queue-concurrency" title="At most this many of its jobs run at once, across every worker"
        >${row.concurrencyLimitText}</span
      >`,
    );
  }
  if (row.rateLimitText !== null) {
    parts.push(
      html`<span data-testid="queue-rate-limit" title="At most this many of its jobs start per interval, across every worker"
        >${row.rateLimitText}</span
      >`,
    );
  }
  return parts;
}

function pauseButton(ctx: PageContext, row: QueueRow): SafeHtml | undefined {
  return row.paused
    ? actionButton(ctx, { action: row.toggleAction, label: 'Resume', testId: 'queue-resume' })
    : actionButton(ctx, { action: row.toggleAction, label: 'Pause', testId: 'queue-pause' });
}
