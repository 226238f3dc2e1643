import type { IncomingMessage } from 'node:http';
import { isHttps } from './cookies.ts';

/**
 * Why a state-changing request does not come from the dashboard's own pages, or `undefined` when
 * it does. With `Sec-Fetch-Site` (every current browser sends it), it must be `same-origin`;
 * otherwise `Origin` must be present and equal to this server's origin, built from `Host` (and the
 * scheme: HTTPS when the connection is, or when `X-Forwarded-Proto` says so). A request without
 * either is refused: browsers send `Origin` with every form POST.
 */
export function crossOriginRefusal(req: IncomingMessage): string | undefined {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined) {
    return site === 'same-origin' ? undefined : `the request does not come from the dashboard's own origin (Sec-Fetch-Site: ${site})`;
  }
  const origin = header(req, 'origin');
  if (origin === undefined || origin === 'null') {
    return 'the request has no Origin header, so it cannot be told apart from a forged one: use a current browser, on the pages the dashboard serves';
  }
  const host = header(req, 'host');
  const own = host === undefined ? undefined : `${isHttps(req) ? 'https' : 'http'}://${host.toLowerCase()}`;
  if (origin.toLowerCase() !== own) {
    return `the request comes from ${origin}, not from the dashboard's own origin (${own ?? 'no Host header'})`;
  }
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
