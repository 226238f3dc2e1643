import type { ServerResponse } from 'node:http';

/**
 * The policy of every response: scripts, styles and fetches from the dashboard itself only (no
 * inline script or style at all, so an injected `<script>` or `style=` would not run even if
 * escaping failed), images from itself or `data:` URLs, forms posting to itself, never framed, no
 * `<base>` element.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers every response carries, whatever it is (pages, JSON, assets, redirects, errors). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}
