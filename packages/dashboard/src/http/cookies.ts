import type { IncomingMessage } from 'node:http';

/** The value of cookie `name` in the request (the first one, which is the one of the most specific path), or `undefined`. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  /** The dashboard's base path (`/` at the root): the cookie goes to the dashboard only. */
  readonly path: string;
  /** Seconds; `0` deletes the cookie; absent: until the browser closes. */
  readonly maxAge?: number;
  /** Over HTTPS only. */
  readonly secure: boolean;
}

/** A `Set-Cookie` value: always HttpOnly (no script reads it) and SameSite=Strict (never sent by another site's request). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${options.path}`, 'HttpOnly', 'SameSite=Strict'];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Whether the browser reached this server over HTTPS (directly, or through a proxy that says so). */
export function isHttps(req: IncomingMessage): boolean {
  return 'encrypted' in req.socket || forwardedProto(req) === 'https';
}

/** The first `X-Forwarded-Proto` value: what the client used before a TLS-terminating proxy. */
function forwardedProto(req: IncomingMessage): string | undefined {
  const header = req.headers['x-forwarded-proto'];
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim().toLowerCase() || undefined;
}
