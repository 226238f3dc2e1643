import type { IncomingMessage } from 'node:http';
import { COOKIES, LIMITS } from '../config/defaults.ts';
import type { Flash } from '../html/context.ts';
import { readCookie, serializeCookie, type CookieOptions } from './cookies.ts';

/**
 * The result of an action travels to the page it redirects to (Post/Redirect/Get) in a short-lived
 * cookie, read once: never in the URL, where a link could make the dashboard say anything.
 */
export function readFlash(req: IncomingMessage): Flash | undefined {
  const value = readCookie(req, COOKIES.flash);
  if (value === undefined || value === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { kind, text } = parsed as Record<string, unknown>;
    if ((kind !== 'success' && kind !== 'error') || typeof text !== 'string') return undefined;
    return { kind, text: text.slice(0, LIMITS.maxFlashLength) };
  } catch {
    return undefined;
  }
}

/** The cookie that carries `flash` to the next page (a minute at most). */
export function flashCookie(flash: Flash, options: Omit<CookieOptions, 'maxAge'>): string {
  const value = Buffer.from(JSON.stringify({ kind: flash.kind, text: flash.text.slice(0, LIMITS.maxFlashLength) })).toString('base64url');
  return serializeCookie(COOKIES.flash, value, { ...options, maxAge: 60 });
}

/** The cookie that removes the flash once a page has shown it. */
export function clearFlashCookie(options: Omit<CookieOptions, 'maxAge'>): string {
  return serializeCookie(COOKIES.flash, '', { ...options, maxAge: 0 });
}
