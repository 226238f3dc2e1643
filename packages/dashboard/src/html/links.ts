import type { StateName } from 'pilotlight';

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

  api(): string {
    return this.to('/api/overview');
  }

  asset(name: string): string {
    return this.to(`/assets/${this.#assets[name] ?? name}`);
  }
}

/** The `id` attribute of a recurring job's row, which `Links.recurringJob()` links to. */
export function recurringAnchor(id: string): string {
  return `recurring-${id}`;
}
