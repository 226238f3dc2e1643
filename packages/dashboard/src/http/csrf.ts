import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { COOKIES } from '../config/defaults.ts';
import { readCookie } from './cookies.ts';

/** 32 random bytes, base64url: 43 characters. */
const TOKEN = /^[\w-]{43}$/;

/**
 * CSRF protection by double submit: the dashboard keeps a random token in an HttpOnly,
 * SameSite=Strict cookie scoped to its path, and writes the same token into every form
 * (`_csrf`). A POST passes only when both are present and equal: another site can make the
 * browser send the cookie (not even that, with SameSite=Strict) but cannot read it to fill the
 * form. Checked together with the request's origin (`same-origin.ts`).
 */
export function csrfCookieToken(req: IncomingMessage): string | undefined {
  const token = readCookie(req, COOKIES.csrf);
  return token !== undefined && TOKEN.test(token) ? token : undefined;
}

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Why the form's token does not pass, or `undefined` when it matches the cookie's (compared in constant time). */
export function csrfRefusal(cookieToken: string | undefined, formToken: string | null): string | undefined {
  if (cookieToken === undefined) {
    return 'the CSRF cookie is missing (cookies blocked, or it expired with the browser session): reload the page and try again';
  }
  if (formToken === null || formToken === '') return 'the form has no CSRF token (_csrf): submit the forms the dashboard shows';
  const expected = Buffer.from(cookieToken);
  const received = Buffer.from(formToken);
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    return "the form's CSRF token does not match the cookie's (the page is from an earlier session): reload the page and try again";
  }
  return undefined;
}
