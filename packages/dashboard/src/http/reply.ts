import type { ServerResponse } from 'node:http';

/**
 * Writing a response: every page, JSON answer and redirect is `Cache-Control: no-store` (jobs
 * data, and pages with a CSRF token, must not sit in a cache). The security headers are already
 * set by the time these run.
 */
export function sendHtml(res: ServerResponse, status: number, body: string, cookies: readonly string[]): void {
  send(res, status, 'text/html; charset=utf-8', body, cookies);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), []);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', text, []);
}

/** 303 See Other: the browser GETs `location` (Post/Redirect/Get). */
export function sendRedirect(res: ServerResponse, location: string, cookies: readonly string[]): void {
  res.setHeader('Location', location);
  send(res, 303, 'text/plain; charset=utf-8', `See ${location}`, cookies);
}

function send(res: ServerResponse, status: number, type: string, body: string, cookies: readonly string[]): void {
  const bytes = Buffer.from(body, 'utf8');
  if (cookies.length > 0) res.setHeader('Set-Cookie', [...cookies]);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': bytes.length, 'Cache-Control': 'no-store' });
  res.end(bytes);
}
