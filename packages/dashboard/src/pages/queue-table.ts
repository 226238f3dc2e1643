import type { StateName } from 'pilotlight';
import type { QueueRow } from '../data/overview.ts';
import { emptyRow } from '../html/elements.ts';
import { formatCount } from '../html/format.ts';
import { html, type SafeHtml } from '../html/template.ts';

const BLANK: QueueRow = {
  queue: '',
  href: '',
  counts: {} as QueueRow['counts'],
  oldestEnqueuedAt: null,
  oldestWaiting: '',
  oldestWaitingSince: '',
};

/**
 * The table of queues, with a column per state of `states` and the age of the oldest waiting job.
 * `live`: the overview's version, which its script keeps up to date: it adds rows by cloning the
 * `<template>` row rendered here, so that the markup exists once.
 */
export function queueTable(rows: readonly QueueRow[], states: readonly StateName[], live: boolean): SafeHtml {
  const head = states.map((state) => html`<th scope="col" class="num">${state}</th>`);
  const template = live ? html`<template data-field="queue-row-template">${queueRow(BLANK, states)}</template>` : '';
  return html`<div class="table-wrap">
    <table class="queues">
      <thead>
        <tr>
          <th scope="col">Queue</th>
          ${head}
          <th scope="col">Oldest waiting</th>
        </tr>
      </thead>
      <tbody data-field="queue-rows">
        ${emptyRow(states.length + 2, 'No queue holds jobs.', rows.length > 0)}${rows.map((row) => queueRow(row, states))}
      </tbody>
    </table>
    ${template}
  </div>`;
}

/** A queue's row; each count carries its state's name too (hidden on screen, read by screen readers and in copied text). */
function queueRow(row: QueueRow, states: readonly StateName[]): SafeHtml {
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
  </tr>`;
}
