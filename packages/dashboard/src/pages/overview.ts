import { LIMITS } from '../config/defaults.ts';
import type { OverviewSnapshot } from '../data/overview.ts';
import { STATE_NAMES } from '../data/overview.ts';
import { renderChart } from '../html/chart.ts';
import type { PageContext } from '../html/context.ts';
import { formatCount } from '../html/format.ts';
import type { Page } from '../html/layout.ts';
import { html } from '../html/template.ts';
import { queueTable } from './queue-table.ts';

/** The states a queue row of the overview shows (the queues page shows them all). */
const OVERVIEW_QUEUE_STATES = ['Enqueued', 'Scheduled', 'Processing', 'Failed'] as const;

/**
 * Counts per state and per queue, jobs finished per minute, workers alive. Rendered complete on
 * the server; the script keeps it current by polling `/api/overview` (`data-live`).
 */
export function overviewPage(ctx: PageContext, snapshot: OverviewSnapshot): Page {
  const { links } = ctx;
  const stats = STATE_NAMES.map(
    (state) =>
      html`<a class="stat stat-${state}" href="${links.jobs({ state })}"
        ><span class="stat-label">${state}</span
        ><span class="stat-value" data-testid="count-${state}">${formatCount(snapshot.counts[state] ?? 0)}</span></a
      >`,
  );
  const body = html`<div data-live="${links.api()}" data-live-interval="${LIMITS.pollInterval}">
    <div class="page-head">
      <h1>Overview</h1>
      <p class="muted live-status" data-field="live-status">Updated <time datetime="${snapshot.at}">now</time></p>
    </div>
    <div class="stats">${stats}</div>
    <div class="columns">
      <section class="card chart-card" aria-labelledby="chart-title">
        <h2 id="chart-title">Finished per minute</h2>
        <figure class="chart-figure" data-testid="chart">
          <figcaption class="legend">
            <span class="key key-succeeded"></span>Succeeded
            <strong data-field="chart-succeeded">${formatCount(snapshot.chart.succeeded)}</strong>
            <span class="key key-failed"></span>Failed <strong data-field="chart-failed">${formatCount(snapshot.chart.failed)}</strong>
            <span class="muted">in the last hour</span>
          </figcaption>
          ${renderChart(snapshot.chart)}
        </figure>
      </section>
      <section class="card workers-card" aria-labelledby="workers-title">
        <h2 id="workers-title">Workers</h2>
        <p class="big"><span data-testid="workers-alive">${formatCount(snapshot.workersAlive)}</span> alive</p>
        <p><a href="${links.workers()}">See the workers</a></p>
      </section>
    </div>
    <section class="card" aria-labelledby="queues-title">
      <h2 id="queues-title">Queues</h2>
      ${queueTable(ctx, snapshot.queues, OVERVIEW_QUEUE_STATES, true)}
      <p><a href="${links.queues()}">Every state per queue</a></p>
    </section>
  </div>`;
  return { title: 'Overview', section: 'overview', body };
}
