import type { Links } from './links.ts';

/** The result of an action, shown once on the page it redirected to. */
export interface Flash {
  readonly kind: 'success' | 'error';
  readonly text: string;
}

/** What every page is rendered with. */
export interface PageContext {
  readonly links: Links;
  /** The time the page is rendered at: every relative time is measured from it. */
  readonly now: Date;
  /** The CSRF token every form carries in `_csrf`. */
  readonly csrf: string;
  /** Actions are hidden (the option, or `authorize` answered `'read-only'`). */
  readonly readOnly: boolean;
  readonly flash: Flash | undefined;
  /** The dashboard receives traces (the `traces` option): the navigation shows Traces and Tasks. */
  readonly traces: boolean;
  /** This page's path and query under the base path (`/jobs?state=Failed`), where its forms return to. */
  readonly current: string;
}
