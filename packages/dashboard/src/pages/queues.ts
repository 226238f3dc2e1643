import type { Store } from 'pilotlight';
import { STATE_NAMES } from '../data/overview.ts';
import { readQueueRows } from '../data/queue-rows.ts';
import type { PageContext } from '../html/context.ts';
import type { Page } from '../html/layout.ts';
import { html } from '../html/template.ts';
import { queueTable } from './queue-table.ts';

/**
 * Every queue holding jobs or having settings: how many jobs in each state, how long its oldest
 * waiting job has waited, its flow control (paused, limits), and its Pause or Resume button.
 */
export async function queuesPage(ctx: PageContext, store: Store<unknown>): Promise<Page> {
  const rows = await readQueueRows(store, ctx.links, ctx.now);
  const body = html`<div class="page-head"><h1>Queues</h1></div>
    ${queueTable(ctx, rows, STATE_NAMES, false)}
    <p class="muted">
      A paused queue keeps its jobs: no worker starts one until it is resumed (the jobs already running finish). Limits are set with
      <code>client.queues</code>.
    </p>`;
  return { title: 'Queues', section: 'queues', body };
}
