import { JobNotFoundError, type JobRecord, type StateRecord } from 'pilotlight';
import { actionApplies } from '../actions/applies.ts';
import type { DashboardConfig, RedactedPart } from '../config/options.ts';
import type { PageContext } from '../html/context.ts';
import { actionButton, jobName, stateBadge, timeTag } from '../html/elements.ts';
import { formatConcurrencyLimit, formatCount, formatDuration, formatJson, formatRateLimit } from '../html/format.ts';
import type { Page } from '../html/layout.ts';
import { html, type HtmlValue, type SafeHtml } from '../html/template.ts';
import { awaitsText } from './batch.ts';
import { failureCard, timeline } from './job-history.ts';
import { jobTraceSection } from './job-trace.ts';

/**
 * One job: a failed job's last exception first, then what it runs, where, its flow control
 * (concurrency key, rate limit, debounce key, batch), its arguments and result (through `redact`)
 * and metadata, its trace (a waterfall once the dashboard has received it), its history
 * as a timeline with the exception of each failed attempt, and the actions that apply to it.
 */
export async function jobPage(ctx: PageContext, config: DashboardConfig, id: string): Promise<Page> {
  const [job, history] = await Promise.all([config.store.getJob(id), config.store.getHistory(id)]);
  if (!job) throw new JobNotFoundError(id);
  const trace = await jobTraceSection(ctx, config, job);
  const actions = [
    actionApplies('requeue', job.state) &&
      actionButton(ctx, { action: ctx.links.jobAction(job.id, 'requeue'), label: 'Requeue', testId: 'action-requeue' }),
    actionApplies('delete', job.state) &&
      actionButton(ctx, { action: ctx.links.jobAction(job.id, 'delete'), label: 'Delete', testId: 'action-delete', tone: 'danger' }),
  ];
  const body = html`<div class="page-head">
      <h1>Job ${job.id} <span class="job-name">${jobName(job)}</span></h1>
      <div class="actions">${actions}</div>
    </div>
    ${failureCard(ctx, job, history)}
    <div class="columns">
      <section class="card" aria-labelledby="summary-title">
        <h2 id="summary-title">Summary</h2>
        ${summary(ctx, job, history)}
      </section>
      <section class="card" aria-labelledby="arguments-title">
        <h2 id="arguments-title">Arguments</h2>
        <pre class="code scroll" data-testid="arguments">${shown(config, job, 'arguments', job.argsJson)}</pre>
        ${result(config, job)}
        <h2>Metadata</h2>
        ${metadata(job)}
      </section>
    </div>
    ${trace}
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      ${timeline(ctx, history)}
    </section>`;
  return { title: `Job ${job.id}`, section: 'jobs', body };
}

function summary(ctx: PageContext, job: JobRecord, history: readonly StateRecord[]): SafeHtml {
  const { links, now } = ctx;
  const worker = job.serverName ?? history.findLast((entry) => entry.serverName !== undefined)?.serverName;
  const attempts =
    job.retry.attempts === undefined ? formatCount(job.attempt) : `${formatCount(job.attempt)} of ${formatCount(job.retry.attempts)}`;
  const rows: [string, HtmlValue][] = [
    [
      'State',
      html`${stateBadge(job.state, 'job-state')} ${job.stateReason ? html`<span class="reason-text">${job.stateReason}</span>` : ''}`,
    ],
    ['Type', html`<code>${job.type}</code>`],
    ['Method', job.method ? html`<code>${job.method}</code>` : html`<span class="muted">none (a function job)</span>`],
    ['Queue', html`<a href="${links.jobs({ state: job.state, queue: job.queue })}">${job.queue}</a>`],
    ['Priority', formatCount(job.priority)],
    ['Created', timeTag(job.createdAt, now)],
    ['State changed', timeTag(job.stateChangedAt, now)],
    ['Due', timeTag(job.runAt, now)],
    ['Attempt', attempts],
    ['Retries', formatCount(job.retryCount)],
    ['Worker', worker === undefined ? html`<span class="muted">not run yet</span>` : html`<a href="${links.workers()}">${worker}</a>`],
  ];
  if (job.leaseUntil) rows.push(['Lease until', timeTag(job.leaseUntil, now)]);
  if (job.progress) {
    rows.push([
      'Progress',
      html`<progress max="100" value="${job.progress.value}">${job.progress.value}%</progress> ${formatCount(job.progress.value)}%
        ${job.progress.message ?? ''}`,
    ]);
  }
  if (typeof job.retry.timeout === 'number') rows.push(['Timeout', formatDuration(job.retry.timeout)]);
  if (job.parentId) rows.push(['Parent', html`<a href="${links.job(job.parentId)}">Job ${job.parentId}</a> (this job continues it)`]);
  if (job.hasContinuations) rows.push(['Continuations', 'Jobs wait for this one to succeed']);
  if (job.recurringId) rows.push(['Recurring job', html`<a href="${links.recurringJob(job.recurringId)}">${job.recurringId}</a>`]);
  if (job.dedupKey) rows.push(['Dedup key', html`<code>${job.dedupKey}</code>`]);
  rows.push(...flowControl(ctx, job));
  return html`<dl class="facts">
    ${rows.map(
      ([term, value]) =>
        html`<dt>${term}</dt>
          <dd>${value}</dd>`,
    )}
  </dl>`;
}

/** What a Succeeded job's handler returned (through `redact`); nothing for a job that has not succeeded. */
function result(config: DashboardConfig, job: JobRecord): SafeHtml | '' {
  if (job.resultJson === undefined && job.state !== 'Succeeded') return '';
  const value =
    job.resultJson === undefined
      ? html`<p class="muted" data-testid="result">Its handler returned nothing.</p>`
      : html`<pre class="code scroll" data-testid="result">${shown(config, job, 'result', job.resultJson)}</pre>`;
  return html`<h2>Result</h2>
    ${value}`;
}

/**
 * The flow control the job was created with: its concurrency key and limit, rate limit, debounce
 * key, batch, and for a batch continuation what it waits for.
 */
function flowControl(ctx: PageContext, job: JobRecord): [string, HtmlValue][] {
  const { links } = ctx;
  const rows: [string, HtmlValue][] = [];
  if (job.concurrency) {
    rows.push([
      'Concurrency key',
      html`<code data-testid="concurrency-key">${job.concurrency.key}</code>, ${formatConcurrencyLimit(job.concurrency.limit)}`,
    ]);
  }
  if (job.rateLimit) {
    rows.push(['Rate limit', html`<code data-testid="rate-limit-key">${job.rateLimit.key}</code>, ${formatRateLimit(job.rateLimit)}`]);
  }
  if (job.debounceKey) rows.push(['Debounce key', html`<code data-testid="debounce-key">${job.debounceKey}</code>`]);
  if (job.batchId) {
    rows.push(['Batch', html`<a href="${links.batch(job.batchId)}" data-testid="batch-link">${job.batchId}</a> (a member)`]);
  }
  if (job.awaitsBatch) {
    rows.push([
      'Awaits batch',
      html`<a href="${links.batch(job.awaitsBatch.batchId)}" data-testid="awaits-batch-link">${job.awaitsBatch.batchId}</a>:
        ${awaitsText(job.awaitsBatch.when)}`,
    ]);
  }
  return rows;
}

/**
 * Stored JSON (arguments or result) as `redact` lets it be seen, as indented JSON; what is stored is
 * never shown when `redact` throws.
 */
function shown(config: DashboardConfig, job: JobRecord, part: RedactedPart, stored: string): string {
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    value = stored;
  }
  try {
    return formatJson(config.redact(value, job, part));
  } catch (error) {
    const what = part === 'result' ? 'result is' : 'arguments are';
    config.logger.error(`dashboard: options.redact threw for job ${job.id}; its ${what} not shown`, { error });
    return '[hidden: options.redact threw an error, logged by the dashboard]';
  }
}

function metadata(job: JobRecord): SafeHtml {
  const entries = Object.entries(job.metadata);
  if (entries.length === 0) return html`<p class="muted" data-testid="metadata">None.</p>`;
  return html`<dl class="facts" data-testid="metadata">
    ${entries.map(
      ([key, value]) =>
        html`<dt><code>${key}</code></dt>
          <dd><code>${value}</code></dd>`,
    )}
  </dl>`;
}
