import type { IncomingMessage } from 'node:http';

/** Where a request goes inside the dashboard. */
export interface Location {
  /** The decoded path segments under the base path (`['jobs', '42']`; `[]` for the overview). */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** The path and query under the base path, as received (`/jobs?state=Failed`): where this page's forms return to. */
  readonly current: string;
}

export type Located = Location | 'outside' | 'malformed';

/**
 * The request's place under `basePath`. The base path is stripped when the URL starts with it (a
 * server that passes the whole URL: node:http, Fastify's and Hono's raw request); a URL that does
 * not start with it is taken as already relative (Express's `app.use(basePath, handler)` strips
 * it). `'outside'`: the framework kept the original URL (`req.originalUrl`, Express) and it is not
 * under the base path, so the request is someone else's. `'malformed'`: not a path, or bad
 * percent-encoding.
 */
export function locate(req: IncomingMessage, basePath: string): Located {
  const original = (req as { originalUrl?: unknown }).originalUrl;
  if (basePath !== '' && typeof original === 'string' && !isUnder(pathOf(original), basePath)) return 'outside';
  const url = req.url ?? '/';
  const path = pathOf(url);
  const search = url.slice(path.length);
  const relative = basePath !== '' && isUnder(path, basePath) ? path.slice(basePath.length) || '/' : path;
  if (!relative.startsWith('/')) return 'malformed';
  const raw = relative.split('/').slice(1);
  if (raw.at(-1) === '') raw.pop(); // a trailing slash, and the root
  try {
    return { segments: raw.map((segment) => decodeURIComponent(segment)), query: new URLSearchParams(search), current: relative + search };
  } catch {
    return 'malformed';
  }
}

function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function isUnder(path: string, basePath: string): boolean {
  return path === basePath || path.startsWith(`${basePath}/`);
}
