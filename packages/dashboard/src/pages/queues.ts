import type { Store } from 'pilotlight';
import { queueRows, STATE_NAMES } from '../data/overview.ts';
import type { PageContext } from '../html/context.ts';
import type { Page } from '../html/layout.ts';
import { html } from '../html/template.ts';
import { queueTable } from './queue-table.ts';

/** Every queue holding jobs: how many in each state, and how long its oldest waiting job has waited. */
export async function queuesPage(ctx: PageContext, store: Store<unknown>): Promise<Page> {
  const rows = queueRows(await store.queueStats(), ctx.links, ctx.now);
  const body = html`<div class="page-head"><h1>Queues</h1></div>
    ${queueTable(rows, STATE_NAMES, false)}`;
  return { title: 'Queues', section: 'queues', body };
}
