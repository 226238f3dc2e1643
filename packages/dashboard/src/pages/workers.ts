import type { JobRecord, Store } from 'pilotlight';
import { LIMITS } from '../config/defaults.ts';
import { isAlive } from '../data/overview.ts';
import type { PageContext } from '../html/context.ts';
import { emptyRow, jobName, timeTag } from '../html/elements.ts';
import { formatCount, plural } from '../html/format.ts';
import type { Page } from '../html/layout.ts';
import { html, type SafeHtml } from '../html/template.ts';

/** Running jobs listed under each worker; the rest are counted. */
const RUNNING_SHOWN = 10;

/** Workers from their heartbeats, with the jobs each is running now. */
export async function workersPage(ctx: PageContext, store: Store<unknown>): Promise<Page> {
  const { now } = ctx;
  const [servers, running] = await Promise.all([
    store.listServers(),
    store.listJobs({ state: 'Processing', limit: LIMITS.maxRunningListed }),
  ]);
  const byServer = new Map<string, JobRecord[]>();
  for (const job of running) {
    const name = job.serverName ?? '';
    const list = byServer.get(name) ?? [];
    list.push(job);
    byServer.set(name, list);
  }
  const rows = [...servers]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((server) => {
      const jobs = byServer.get(server.name) ?? [];
      const alive = isAlive(server.heartbeatAt, now);
      return html`<tr data-testid="worker-row" data-worker="${server.name}">
        <th scope="row"><code>${server.name}</code></th>
        <td>${server.queues.join(', ')}</td>
        <td class="num">${formatCount(jobs.length)} / ${formatCount(server.concurrency)}</td>
        <td>${timeTag(server.startedAt, now)}</td>
        <td>
          ${timeTag(server.heartbeatAt, now)}
          <span class="${alive ? 'state state-Succeeded' : 'state state-Failed'}">${alive ? 'alive' : 'silent'}</span>
        </td>
        <td>${runningJobs(ctx, jobs)}</td>
      </tr>`;
    });
  const known = new Set(servers.map((server) => server.name));
  const orphans = running.filter((job) => !known.has(job.serverName ?? ''));
  const orphanNote =
    orphans.length === 0
      ? ''
      : html`<p class="muted">
          ${plural(orphans.length, 'job')} ${orphans.length === 1 ? 'is' : 'are'} Processing under workers no longer listed (their leases
          expire, then they are requeued): ${runningJobs(ctx, orphans)}
        </p>`;
  const capped =
    running.length >= LIMITS.maxRunningListed
      ? html`<p class="muted">Showing the first ${formatCount(LIMITS.maxRunningListed)} running jobs.</p>`
      : '';
  const body = html`<div class="page-head"><h1>Workers</h1></div>
    <div class="table-wrap">
      <table class="workers">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Queues</th>
            <th scope="col" class="num">Running / concurrency</th>
            <th scope="col">Started</th>
            <th scope="col">Last heartbeat</th>
            <th scope="col">Running now</th>
          </tr>
        </thead>
        <tbody>
          ${rows.length === 0 ? emptyRow(6, 'No worker is running: start one with createWorker().') : rows}
        </tbody>
      </table>
    </div>
    ${orphanNote}${capped}`;
  return { title: 'Workers', section: 'workers', body };
}

function runningJobs(ctx: PageContext, jobs: readonly JobRecord[]): SafeHtml {
  if (jobs.length === 0) return html`<span class="muted">idle</span>`;
  const shown = jobs
    .slice(0, RUNNING_SHOWN)
    .map((job) => html`<li><a href="${ctx.links.job(job.id)}">${job.id}</a> <code>${jobName(job)}</code></li>`);
  const more = jobs.length > RUNNING_SHOWN ? html`<li class="muted">and ${formatCount(jobs.length - RUNNING_SHOWN)} more</li>` : '';
  return html`<ul class="running">
    ${shown}${more}
  </ul>`;
}
