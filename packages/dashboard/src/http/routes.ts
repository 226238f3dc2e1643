import { applyBulk, estimateBulk } from '../actions/bulk.ts';
import { jobAction } from '../actions/job-actions.ts';
import { queueAction } from '../actions/queue-actions.ts';
import { removeRecurring, triggerRecurring } from '../actions/recurring-actions.ts';
import type { DashboardConfig } from '../config/options.ts';
import { readOverview } from '../data/overview.ts';
import type { Flash, PageContext } from '../html/context.ts';
import type { Page } from '../html/layout.ts';
import { batchPage } from '../pages/batch.ts';
import { bulkConfirmPage } from '../pages/bulk-confirm.ts';
import { jobPage } from '../pages/job.ts';
import { jobsPage } from '../pages/jobs.ts';
import { overviewPage } from '../pages/overview.ts';
import { queuesPage } from '../pages/queues.ts';
import { recurringPage } from '../pages/recurring.ts';
import { tasksPage } from '../pages/tasks.ts';
import { tracePage } from '../pages/trace.ts';
import { tracesPage } from '../pages/traces.ts';
import { workersPage } from '../pages/workers.ts';
import {
  actionParam,
  batchFilter,
  bulkTarget,
  confirmParam,
  jobsFilter,
  optionalText,
  requiredText,
  returnPath,
  tasksFilter,
  traceIdParam,
  tracesFilter,
} from './params.ts';

/** What a route answers; the dashboard writes it with the headers and cookies it needs. */
export type Reply =
  | { readonly kind: 'page'; readonly page: Page }
  | { readonly kind: 'json'; readonly value: unknown }
  /** 303 to `to` (a path under the base path), with the result shown there. */
  | { readonly kind: 'redirect'; readonly to: string; readonly flash: Flash }
  | { readonly kind: 'asset'; readonly name: string };

export interface RouteRequest {
  readonly config: DashboardConfig;
  readonly ctx: PageContext;
  /** The path's `:name` segments, decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** A POST's fields (empty for a GET). */
  readonly form: URLSearchParams;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** Segments under the base path; `:name` matches any one segment. */
  readonly pattern: readonly string[];
  readonly handle: (request: RouteRequest) => Promise<Reply> | Reply;
}

const page = async (page: Promise<Page> | Page): Promise<Reply> => ({ kind: 'page', page: await page });
const back = (form: URLSearchParams, fallback: string, flash: Flash): Reply => ({
  kind: 'redirect',
  to: returnPath(form.get('_return'), fallback),
  flash,
});
const jobId = (params: RouteRequest['params']) => requiredText(params.id, 'job id');
const recurringId = (params: RouteRequest['params']) => requiredText(params.id, 'recurring job id');
const queueName = (params: RouteRequest['params']) => requiredText(params.queue, 'queue');

/** Every route, relative to the base path. GET never changes anything; every change is a POST. */
const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    pattern: [],
    handle: async ({ config, ctx }) => page(overviewPage(ctx, await readOverview(config.store, ctx.links, ctx.now))),
  },
  { method: 'GET', pattern: ['jobs'], handle: ({ config, ctx, query }) => page(jobsPage(ctx, config.store, jobsFilter(query))) },
  { method: 'GET', pattern: ['jobs', ':id'], handle: ({ config, ctx, params }) => page(jobPage(ctx, config, jobId(params))) },
  {
    method: 'POST',
    pattern: ['jobs', ':id', 'requeue'],
    handle: async ({ config, params, form }) =>
      back(form, `/jobs/${encodeURIComponent(jobId(params))}`, await jobAction(config.client, 'requeue', jobId(params))),
  },
  {
    method: 'POST',
    pattern: ['jobs', ':id', 'delete'],
    handle: async ({ config, params, form }) =>
      back(form, `/jobs/${encodeURIComponent(jobId(params))}`, await jobAction(config.client, 'delete', jobId(params))),
  },
  {
    method: 'POST',
    pattern: ['jobs', 'bulk'],
    handle: async ({ config, ctx, form }) => {
      const action = actionParam(form.get('action'));
      const target = bulkTarget(form);
      const confirmed = confirmParam(form.get('confirm'));
      const returnTo = returnPath(form.get('_return'), '/jobs');
      if (confirmed === undefined)
        return page(bulkConfirmPage(ctx, action, target, await estimateBulk(config.store, action, target), returnTo));
      return back(form, returnTo, await applyBulk(config.client, action, target, confirmed, optionalText(form.get('upto'), 'upto')));
    },
  },
  { method: 'GET', pattern: ['recurring'], handle: ({ config, ctx }) => page(recurringPage(ctx, config.store)) },
  {
    method: 'POST',
    pattern: ['recurring', ':id', 'trigger'],
    handle: async ({ config, params, form }) => back(form, '/recurring', await triggerRecurring(config.client, recurringId(params))),
  },
  {
    method: 'POST',
    pattern: ['recurring', ':id', 'remove'],
    handle: async ({ config, params, form }) => back(form, '/recurring', await removeRecurring(config.client, recurringId(params))),
  },
  { method: 'GET', pattern: ['traces'], handle: ({ config, ctx, query }) => page(tracesPage(ctx, config, tracesFilter(query))) },
  {
    method: 'GET',
    pattern: ['traces', ':traceId'],
    handle: ({ config, ctx, params }) => page(tracePage(ctx, config, traceIdParam(params.traceId))),
  },
  { method: 'GET', pattern: ['tasks'], handle: ({ config, ctx, query }) => page(tasksPage(ctx, config, tasksFilter(query))) },
  { method: 'GET', pattern: ['workers'], handle: ({ config, ctx }) => page(workersPage(ctx, config.store)) },
  { method: 'GET', pattern: ['queues'], handle: ({ config, ctx }) => page(queuesPage(ctx, config.store)) },
  {
    method: 'POST',
    pattern: ['queues', ':queue', 'pause'],
    handle: async ({ config, params, form }) => back(form, '/queues', await queueAction(config.client, 'pause', queueName(params))),
  },
  {
    method: 'POST',
    pattern: ['queues', ':queue', 'resume'],
    handle: async ({ config, params, form }) => back(form, '/queues', await queueAction(config.client, 'resume', queueName(params))),
  },
  {
    method: 'GET',
    pattern: ['batches', ':id'],
    handle: ({ config, ctx, params, query }) => page(batchPage(ctx, config, requiredText(params.id, 'batch id'), batchFilter(query))),
  },
  {
    method: 'GET',
    pattern: ['api', 'overview'],
    handle: async ({ config, ctx }) => ({ kind: 'json', value: await readOverview(config.store, ctx.links, ctx.now) }),
  },
  { method: 'GET', pattern: ['assets', ':name'], handle: ({ params }) => ({ kind: 'asset', name: params.name! }) },
];

export type Match =
  { readonly route: Route; readonly params: Record<string, string> } | { readonly allowed: readonly string[] } | undefined;

/**
 * The route for a method and path: literal segments win over `:name` ones (`/jobs/bulk` is not a
 * job). `{ allowed }` when the path exists with other methods (405); `undefined` when it does not (404).
 */
export function matchRoute(method: string, segments: readonly string[]): Match {
  let best: { route: Route; params: Record<string, string>; literals: number }[] = [];
  for (const route of ROUTES) {
    if (route.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const fits = route.pattern.every((part, i) => {
      if (part.startsWith(':')) {
        params[part.slice(1)] = segments[i]!;
        return true;
      }
      literals++;
      return part === segments[i];
    });
    if (!fits || (best.length > 0 && literals < best[0]!.literals)) continue;
    if (best.length > 0 && literals > best[0]!.literals) best = [];
    best.push({ route, params, literals });
  }
  if (best.length === 0) return undefined;
  const found = best.find((candidate) => candidate.route.method === method);
  if (found) return { route: found.route, params: found.params };
  return { allowed: [...new Set(best.map((candidate) => (candidate.route.method === 'GET' ? 'GET, HEAD' : 'POST')))] };
}
