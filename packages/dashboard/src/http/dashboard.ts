import type { IncomingMessage, ServerResponse } from 'node:http';
import { JobNotFoundError, PilotlightError, ValidationError } from 'pilotlight';
import { COOKIES } from '../config/defaults.ts';
import { resolveOptions, type DashboardConfig, type DashboardOptions } from '../config/options.ts';
import type { PageContext } from '../html/context.ts';
import { layout } from '../html/layout.ts';
import { Links } from '../html/links.ts';
import { errorPage } from '../pages/error.ts';
import { createSpanIngest } from '../traces/ingest/span-ingest.ts';
import { checkAccess } from './access.ts';
import { assetPaths, serveAsset } from './assets.ts';
import { readForm } from './body.ts';
import { isHttps, serializeCookie } from './cookies.ts';
import { csrfCookieToken, csrfRefusal, newCsrfToken } from './csrf.ts';
import { clearFlashCookie, flashCookie, readFlash } from './flash.ts';
import { setSecurityHeaders } from './headers.ts';
import { locate, type Location } from './location.ts';
import { otlpSignal, receiveOtlp, refuseOtlp, type OtlpReceiver } from './otlp-receiver.ts';
import { sendHtml, sendJson, sendRedirect, sendText } from './reply.ts';
import { matchRoute, type Reply } from './routes.ts';
import { crossOriginRefusal } from './same-origin.ts';

/**
 * The dashboard as a Node request handler, for `http.createServer(handler)`, Express
 * (`app.use(path, handler)`), or any framework that hands over Node's request and response.
 */
export interface DashboardHandler<Request extends IncomingMessage = IncomingMessage> {
  /**
   * Answer one request. `next`, when given (Express, Connect), is called for a request outside
   * the base path (known by the framework's `req.originalUrl`), so the dashboard can be mounted
   * application-wide; everything under the base path is answered here, 404 included.
   */
  (req: Request, res: ServerResponse, next?: (error?: unknown) => void): void;
  /**
   * Stop taking requests (they are answered 503) and wait for the ones under way; with `traces`, the
   * spans received are written and retention stops (the trace store stays open: close it after). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The dashboard: see and act on every job of a store.
 *
 * ```ts
 * const dashboard = createDashboard({ store, basePath: '/admin/jobs', authorize: (req) => isAdmin(req) });
 * app.use('/admin/jobs', dashboard);
 * ```
 */
export function createDashboard<Request extends IncomingMessage = IncomingMessage>(
  options: DashboardOptions<Request>,
): DashboardHandler<Request> {
  const config = resolveOptions(options);
  const links = new Links(config.basePath, assetPaths());
  const ingest = config.traces && createSpanIngest({ store: config.traces.store, retention: config.traces, logger: config.logger });
  const receiver: OtlpReceiver = { ingest, logger: config.logger, dropped: new Set() };
  const pending = new Set<Promise<void>>();
  let closed = false;
  const handler = (req: Request, res: ServerResponse, next?: (error?: unknown) => void): void => {
    const work = serve(config, links, receiver, closed, req, res, next)
      .catch((error: unknown) => config.logger.error('dashboard: answering a request failed', { error }))
      .finally(() => pending.delete(work));
    pending.add(work);
  };
  return Object.assign(handler, {
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...pending]);
      await ingest?.close();
    },
  });
}

/** Everything one request needs to be answered. */
interface Exchange {
  readonly config: DashboardConfig;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly ctx: PageContext;
  /** The CSRF token is new: the response sets its cookie. */
  readonly newToken: boolean;
  readonly api: boolean;
}

async function serve(
  config: DashboardConfig,
  links: Links,
  receiver: OtlpReceiver,
  closed: boolean,
  req: IncomingMessage,
  res: ServerResponse,
  next: ((error?: unknown) => void) | undefined,
): Promise<void> {
  const location = locate(req, config.basePath);
  if (location === 'outside' && next) return next();
  setSecurityHeaders(res);
  const cookieToken = csrfCookieToken(req);
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const place = typeof location === 'string' ? undefined : location;
  const exchange: Exchange = {
    config,
    req,
    res,
    ctx: {
      links,
      now: new Date(),
      csrf: cookieToken ?? newCsrfToken(),
      readOnly: config.readOnly,
      traces: config.traces !== undefined,
      flash: method === 'GET' ? readFlash(req) : undefined,
      current: place?.current ?? '/',
    },
    newToken: cookieToken === undefined,
    api: place?.segments[0] === 'api',
  };
  // Exporters are answered in OTLP's terms (a Status body, Retry-After), and before the form and
  // CSRF handling: they are not browsers. Read-only access may send spans: they change no job.
  const otlp = place === undefined ? undefined : otlpSignal(place.segments);
  try {
    if (closed) {
      if (otlp) return refuseOtlp(req, res, 503, 'The dashboard is shutting down: retry later.');
      return refuse(exchange, 503, 'Shutting down', 'The dashboard is shutting down.');
    }
    if (location === 'outside') return refuse(exchange, 404, 'Not found', 'No such page.');
    if (location === 'malformed') return refuse(exchange, 400, 'Bad request', 'The address is not a valid path.');
    const access = await checkAccess(req, config);
    if ('denied' in access) return otlp ? refuseOtlp(req, res, 403, access.denied) : refuse(exchange, 403, 'Forbidden', access.denied);
    if (otlp) return await receiveOtlp(req, res, otlp, receiver);
    const ctx = { ...exchange.ctx, readOnly: access.granted === 'read-only' };
    await route({ ...exchange, ctx }, method, location, cookieToken);
  } catch (error) {
    fail(exchange, error);
  }
}

async function route(exchange: Exchange, method: string, place: Location, cookieToken: string | undefined): Promise<void> {
  const { req, ctx, config } = exchange;
  const match = matchRoute(method, place.segments);
  if (match === undefined) return refuse(exchange, 404, 'Not found', 'No such page.');
  if ('allowed' in match) {
    exchange.res.setHeader('Allow', match.allowed.join(', '));
    return refuse(exchange, 405, 'Method not allowed', `This address takes ${match.allowed.join(' or ')} requests, not ${method}.`);
  }
  let form = new URLSearchParams();
  if (method === 'POST') {
    if (ctx.readOnly) return refuse(exchange, 403, 'Read-only', 'This dashboard is read-only: it changes nothing.');
    const foreign = crossOriginRefusal(req);
    if (foreign !== undefined) return refuse(exchange, 403, 'Forbidden', `Refused, nothing was changed: ${foreign}.`);
    const body = await readForm(req);
    if ('status' in body) {
      if (body.status === 413) exchange.res.setHeader('Connection', 'close');
      return refuse(exchange, body.status, 'Bad request', body.message);
    }
    const forged = csrfRefusal(cookieToken, body.form.get('_csrf'));
    if (forged !== undefined) return refuse(exchange, 403, 'Forbidden', `Refused, nothing was changed: ${forged}.`);
    form = body.form;
  }
  const reply = await match.route.handle({ config, ctx, params: match.params, query: place.query, form });
  write(exchange, reply, place.query);
}

function write(exchange: Exchange, reply: Reply, query: URLSearchParams): void {
  const { res, ctx } = exchange;
  switch (reply.kind) {
    case 'page':
      return sendHtml(res, reply.page.status ?? 200, layout(ctx, reply.page).toString(), pageCookies(exchange));
    case 'json':
      return sendJson(res, 200, reply.value);
    case 'redirect':
      return sendRedirect(res, ctx.links.to(reply.to), [...tokenCookie(exchange), flashCookie(reply.flash, cookieOptions(exchange))]);
    case 'asset':
      if (!serveAsset(exchange.req, res, reply.name, query)) refuse(exchange, 404, 'Not found', 'No such asset.');
  }
}

/** A refusal or an error, as a page (or as JSON under `/api/`); it changes nothing. */
function refuse(exchange: Exchange, status: number, title: string, message: string): void {
  if (exchange.api) return sendJson(exchange.res, status, { error: message });
  sendHtml(exchange.res, status, layout(exchange.ctx, errorPage(exchange.ctx, status, title, message)).toString(), pageCookies(exchange));
}

/** ValidationError: 400 with its message; JobNotFoundError: 404; anything else (the store failing): 500, logged, without the stack. */
function fail(exchange: Exchange, error: unknown): void {
  if (exchange.res.headersSent) {
    exchange.res.destroy();
    return;
  }
  if (error instanceof ValidationError) return refuse(exchange, 400, 'Bad request', error.message);
  if (error instanceof JobNotFoundError) return refuse(exchange, 404, 'Not found', error.message);
  exchange.config.logger.error(`dashboard: ${exchange.req.method} ${exchange.req.url} failed`, { error });
  const what = error instanceof PilotlightError ? `${error.name} (${error.code})` : error instanceof Error ? error.name : 'an error';
  const message = error instanceof Error ? error.message.slice(0, 300) : '';
  try {
    refuse(
      exchange,
      500,
      'Something failed',
      `The request failed with ${what}${message ? `: ${message}` : ''}. The details are in the server's log.`,
    );
  } catch {
    sendText(exchange.res, 500, 'The dashboard failed; the details are in the server log.');
  }
}

function cookieOptions(exchange: Exchange) {
  return { path: exchange.config.basePath || '/', secure: isHttps(exchange.req) };
}

function tokenCookie(exchange: Exchange): string[] {
  return exchange.newToken ? [serializeCookie(COOKIES.csrf, exchange.ctx.csrf, cookieOptions(exchange))] : [];
}

/** A page sets the CSRF cookie when the browser has none yet, and clears the flash it shows. */
function pageCookies(exchange: Exchange): string[] {
  return [...tokenCookie(exchange), ...(exchange.ctx.flash ? [clearFlashCookie(cookieOptions(exchange))] : [])];
}
