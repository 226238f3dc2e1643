import type { StateName } from 'pilotlight';
import { spanAnchor } from './span-elements.ts';

/** What the jobs list shows: a state tab (or every state), filters, a search, a page. */
export interface JobsFilter {
  /** `undefined`: every state. */
  readonly state?: StateName | undefined;
  readonly queue?: string | undefined;
  readonly type?: string | undefined;
  /** Search text. */
  readonly q?: string | undefined;
  /** Only jobs older than this id (keyset pagination). */
  readonly before?: string | undefined;
}

/** What a batch's page lists: its members of one state (or all), a page. */
export interface BatchFilter {
  /** `undefined`: every state. */
  readonly state?: StateName | undefined;
  /** Only members older than this id (keyset pagination). */
  readonly before?: string | undefined;
}

/** What the traces page shows: a query's matches (or recent traces), of one service, a page. */
export interface TracesFilter {
  /** Query text (`name LIKE "process %" AND status = ERROR`); empty: the recent traces' root spans. */
  readonly q?: string | undefined;
  readonly service?: string | undefined;
  /** A `SpanPage.next`: the page after it. */
  readonly before?: string | undefined;
}

/** What the tasks page shows: `BackgroundTask.*` spans of one type and final status, a page. */
export interface TasksFilter {
  readonly type?: string | undefined;
  /** `task.status`: `Completed`, `Failed`, `Cancelled`. */
  readonly status?: string | undefined;
  readonly before?: string | undefined;
}

/**
 * Every URL the dashboard writes, under its `basePath`. Job data only ever goes into a path segment
 * or a query value through `encodeURIComponent`/`URLSearchParams`, after a fixed prefix, so it can
 * never choose a scheme or a host.
 */
export class Links {
  readonly #basePath: string;
  readonly #assets: Readonly<Record<string, string>>;

  /** `assets`: the URL path (after `/assets/`) of each asset file, versioned. */
  constructor(basePath: string, assets: Readonly<Record<string, string>>) {
    this.#basePath = basePath;
    this.#assets = assets;
  }

  /** A dashboard path (`/jobs?state=Failed`) under the base path. */
  to(path: string): string {
    return `${this.#basePath}${path}`;
  }

  overview(): string {
    return this.to('/');
  }

  jobs(filter: JobsFilter = {}): string {
    const query = new URLSearchParams();
    query.set('state', filter.state ?? 'all');
    for (const key of ['queue', 'type', 'q', 'before'] as const) {
      const value = filter[key];
      if (value !== undefined && value !== '') query.set(key, value);
    }
    return this.to(`/jobs?${query}`);
  }

  job(id: string): string {
    return this.to(`/jobs/${encodeURIComponent(id)}`);
  }

  jobAction(id: string, action: 'requeue' | 'delete'): string {
    return `${this.job(id)}/${action}`;
  }

  bulk(): string {
    return this.to('/jobs/bulk');
  }

  /** A batch's page: its members of one state (every state without one), a page of them. */
  batch(id: string, filter: BatchFilter = {}): string {
    return this.to(`/batches/${encodeURIComponent(id)}${queryOf({ state: filter.state, before: filter.before })}`);
  }

  recurring(): string {
    return this.to('/recurring');
  }

  /** The recurring page, scrolled to one recurring job's row. */
  recurringJob(id: string): string {
    return `${this.recurring()}#${encodeURIComponent(recurringAnchor(id))}`;
  }

  recurringAction(id: string, action: 'trigger' | 'remove'): string {
    return this.to(`/recurring/${encodeURIComponent(id)}/${action}`);
  }

  workers(): string {
    return this.to('/workers');
  }

  queues(): string {
    return this.to('/queues');
  }

  queueAction(queue: string, action: 'pause' | 'resume'): string {
    return this.to(`/queues/${encodeURIComponent(queue)}/${action}`);
  }

  /** A trace's page, scrolled to one span's row when `spanId` is given. */
  trace(traceId: string, spanId?: string): string {
    const path = this.to(`/traces/${encodeURIComponent(traceId)}`);
    return spanId === undefined ? path : `${path}#${encodeURIComponent(spanAnchor(spanId))}`;
  }

  traces(filter: TracesFilter = {}): string {
    return this.to(`/traces${queryOf({ q: filter.q, service: filter.service, before: filter.before })}`);
  }

  tasks(filter: TasksFilter = {}): string {
    return this.to(`/tasks${queryOf({ type: filter.type, status: filter.status, before: filter.before })}`);
  }

  api(): string {
    return this.to('/api/overview');
  }

  asset(name: string): string {
    return this.to(`/assets/${this.#assets[name] ?? name}`);
  }
}

/** `?a=1&b=2` of the non-empty values, or nothing. */
function queryOf(values: Readonly<Record<string, string | undefined>>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') query.set(key, value);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * The link to the same trace in another backend: `template` (the `traces.externalUrl` option) with
 * `{traceId}` replaced, and its host to name it ("Open in localhost:16686"). `undefined` unless
 * the result is an http(s) URL, so the option can never make a `javascript:` link.
 */
export function externalTraceLink(
  template: string | undefined,
  traceId: string,
): { readonly href: string; readonly host: string } | undefined {
  if (template === undefined) return undefined;
  try {
    const url = new URL(template.replaceAll('{traceId}', encodeURIComponent(traceId)));
    return url.protocol === 'http:' || url.protocol === 'https:' ? { href: url.href, host: url.host } : undefined;
  } catch {
    return undefined;
  }
}

/** The `id` attribute of a recurring job's row, which `Links.recurringJob()` links to. */
export function recurringAnchor(id: string): string {
  return `recurring-${id}`;
}
