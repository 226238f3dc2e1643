import type { IncomingMessage } from 'node:http';
import type { DashboardConfig } from '../config/options.ts';

/** What one request may do. */
export type Access = { readonly granted: 'full' | 'read-only' } | { readonly denied: string };

/** The loopback addresses a request without `authorize` must come from. */
const LOCAL_ADDRESSES: ReadonlySet<string> = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * `options.authorize`'s answer for the request, or without it Hangfire's default: local requests
 * only. `readOnly` turns full access into read-only. An `authorize` that throws or answers
 * something else denies (and is logged): a broken check must not open the dashboard.
 */
export async function checkAccess(req: IncomingMessage, config: DashboardConfig): Promise<Access> {
  const granted = (access: 'full' | 'read-only'): Access => ({ granted: config.readOnly ? 'read-only' : access });
  if (config.authorize === undefined) {
    const address = req.socket.remoteAddress;
    if (address !== undefined && LOCAL_ADDRESSES.has(address)) return granted('full');
    return {
      denied: `This dashboard answers only requests from this machine (127.0.0.1 or ::1), and this one comes from ${address ?? 'an unknown address'}. To open it to others, pass authorize to createDashboard(): a function of the request that answers true, 'read-only' or false (your session or token check).`,
    };
  }
  let answer: unknown;
  try {
    answer = await config.authorize(req);
  } catch (error) {
    config.logger.error('dashboard: options.authorize threw; the request is refused', { error });
    return { denied: 'The authorization check failed; the request is refused (the error is in the server log).' };
  }
  if (answer === true) return granted('full');
  if (answer === 'read-only') return granted('read-only');
  if (answer !== false) {
    config.logger.error(
      `dashboard: options.authorize must answer true, 'read-only' or false; it answered ${typeof answer}, which refuses the request`,
    );
  }
  return { denied: 'You are not allowed to see this dashboard (authorize refused the request).' };
}
