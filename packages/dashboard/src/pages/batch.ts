import type { JobRecord, StateName } from 'pilotlight';
import { LIMITS } from '../config/defaults.ts';
import type { DashboardConfig } from '../config/options.ts';
import { STATE_NAMES, totalOf } from '../data/overview.ts';
import type { PageContext } from '../html/context.ts';
import { formatCount, plural } from '../html/format.ts';
import type { Page } from '../html/layout.ts';
import type { BatchFilter } from '../html/links.ts';
import { html, type SafeHtml } from '../html/template.ts';
import { errorPage } from './error.ts';
import { jobTable } from './job-table.ts';

/** A batch's members count as finished in these states, as its continuations see them. */
const FINISHED: readonly StateName[] = ['Succeeded', 'Failed', 'Deleted'];

/**
 * `/batches/:id`: how many of a batch's members are in each state (`countBatch`, from an index),
 * its members of one state (or all) newest first, `LIMITS.pageSize` a page (`listJobs({ batchId })`
 * with keyset paging), and the continuations still waiting for it. A batch the store knows nothing
 * of (no member, no waiting continuation) is a 404 page.
 */
export async function batchPage(ctx: PageContext, config: DashboardConfig, batchId: string, filter: BatchFilter): Promise<Page> {
  const { store } = config;
  const [counts, continuations, members] = await Promise.all([
    store.countBatch(batchId),
    store.listBatchContinuations(batchId),
    store.listJobs({
      batchId,
      ...(filter.state && { state: filter.state }),
      ...(filter.before && { before: filter.before }),
      limit: LIMITS.pageSize + 1,
    }),
  ]);
  const total = totalOf(counts);
  if (total === 0 && continuations.length === 0) {
    return { ...errorPage(ctx, 404, 'Not found', `Batch ${batchId} does not exist`), status: 404 };
  }
  const next = members.length > LIMITS.pageSize ? members[LIMITS.pageSize - 1]!.id : undefined;
  const finished = totalOf(counts, FINISHED);
  const body = html`<div class="page-head">
      <h1>Batch <code data-testid="batch-id">${batchId}</code></h1>
    </div>
    <p data-testid="batch-progress">
      ${plural(total, 'member')}: ${formatCount(finished)} finished, ${formatCount(counts.Succeeded ?? 0)} succeeded.
    </p>
    ${tabs(ctx, batchId, filter, counts)}
    ${jobTable(ctx, members.slice(0, LIMITS.pageSize), {
      selectable: false,
      due: filter.state === 'Scheduled',
      empty: 'No member of this batch is in this state.',
    })}
    ${pager(ctx, batchId, filter, next)}
    <section class="card" aria-labelledby="continuations-title">
      <h2 id="continuations-title">Continuations</h2>
      ${continuationList(ctx, continuations)}
    </section>`;
  return { title: `Batch ${batchId}`, section: 'jobs', body };
}

/** A tab per state with its count of members, and All. */
function tabs(ctx: PageContext, batchId: string, filter: BatchFilter, counts: Readonly<Record<StateName, number>>): SafeHtml {
  const tab = (state: StateName | undefined, label: string, count: number) => {
    const current = state === filter.state ? html` aria-current="page"` : '';
    return html`<a class="tab${state ? ` tab-${state}` : ''}" href="${ctx.links.batch(batchId, { state })}" ${current}
      >${label} <span class="count" data-testid="${`batch-count-${state ?? 'all'}`}">${formatCount(count)}</span></a
    >`;
  };
  return html`<nav class="tabs" aria-label="Members by state">
    ${STATE_NAMES.map((state) => tab(state, state, counts[state] ?? 0))}${tab(undefined, 'All', totalOf(counts))}
  </nav>`;
}

function pager(ctx: PageContext, batchId: string, filter: BatchFilter, next: string | undefined): SafeHtml {
  const newest = filter.before ? html`<a href="${ctx.links.batch(batchId, { state: filter.state })}">Newest</a>` : '';
  const older =
    next === undefined ? '' : html`<a href="${ctx.links.batch(batchId, { state: filter.state, before: next })}" rel="next">Older</a>`;
  return html`<p class="pager">${newest} ${older}</p>`;
}

/** The jobs waiting (`Awaiting`) for the batch, and what each waits for. */
function continuationList(ctx: PageContext, continuations: readonly JobRecord[]): SafeHtml {
  if (continuations.length === 0) {
    return html`<p class="muted" data-testid="batch-continuations">No job waits for this batch (any that did has been released).</p>`;
  }
  const items = continuations.map(
    (job) =>
      html`<li data-testid="batch-continuation" data-job-id="${job.id}">
        <a href="${ctx.links.job(job.id)}">Job ${job.id}</a> <code>${job.type}</code>: ${awaitsText(job.awaitsBatch?.when ?? 'finished')}
      </li>`,
  );
  return html`<ul data-testid="batch-continuations">
    ${items}
  </ul>`;
}

/** What a batch continuation waits for, said as a sentence's end. */
export function awaitsText(when: 'succeeded' | 'finished'): string {
  return when === 'succeeded'
    ? 'runs once every member has finished, if every one succeeded (otherwise it is deleted)'
    : 'runs once every member has finished (succeeded, failed or deleted)';
}
