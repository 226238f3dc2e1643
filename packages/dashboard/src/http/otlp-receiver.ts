import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pilotlight';
import type { SpanIngest } from '../traces/ingest/span-ingest.ts';
import { decodeTraces } from '../traces/otlp/decode-traces.ts';
import { OtlpDecodeError } from '../traces/otlp/otlp-decode-error.ts';
import { otlpEncoding, readOtlpBody } from './otlp-body.ts';
import { otlpFormat, sendOtlpStatus, sendOtlpSuccess, type OtlpFormat } from './otlp-reply.ts';
import { crossOriginRefusal } from './same-origin.ts';

/** The three OpenTelemetry signals, by the last segment of their OTLP/HTTP path. */
export type OtlpSignal = 'traces' | 'metrics' | 'logs';

const SIGNALS: ReadonlySet<string> = new Set<OtlpSignal>(['traces', 'metrics', 'logs']);

/**
 * The signal of a standard OTLP/HTTP path under the base path (an exporter's endpoint plus
 * `/v1/traces`, `/v1/metrics` or `/v1/logs`), or undefined for any other path.
 */
export function otlpSignal(segments: readonly string[]): OtlpSignal | undefined {
  return segments.length === 2 && segments[0] === 'v1' && SIGNALS.has(segments[1]!) ? (segments[1] as OtlpSignal) : undefined;
}

/** What the receiver works with: the span ingest (none without the `traces` option) and where it says what it drops. */
export interface OtlpReceiver {
  readonly ingest: SpanIngest | undefined;
  readonly logger: Logger;
  /** The signals whose dropping was logged already: once per dashboard each. */
  readonly dropped: Set<OtlpSignal>;
}

/**
 * A refusal of a request to `/v1/traces` made before it reaches the receiver (access denied, the
 * dashboard shutting down), in the request's format: an exporter gets the answer the OTLP/HTTP
 * specification gives it, with `Retry-After` on a 503.
 */
export function refuseOtlp(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  sendOtlpStatus(res, otlpFormat(req) ?? 'json', status, message);
}

/**
 * `POST {basePath}/v1/{traces,metrics,logs}`, an OTLP/HTTP export (https://opentelemetry.io/docs/specs/otlp/#otlphttp),
 * once the access check passed: the body, protobuf or JSON, gzip, deflate or plain, is decoded
 * whole, then its spans are submitted to the ingest, and the request is answered 200 only once
 * they are durable. Bad bodies get a 4xx and store nothing; a receiver behind answers 429, a
 * failing trace store 503, both with `Retry-After` (the exporters retry those, and only those).
 *
 * Metrics and logs are checked and read the same way, then answered 200 and dropped (logged once
 * each): the dashboard keeps traces only, and accepting the other two lets one
 * `OTEL_EXPORTER_OTLP_ENDPOINT` serve every signal of an SDK without an export error a minute.
 *
 * Exporters are not browsers: no CSRF token is asked for. A request that a browser sent from
 * another site (`Sec-Fetch-Site`, `Origin`) is refused as every cross-origin form POST is.
 */
export async function receiveOtlp(req: IncomingMessage, res: ServerResponse, signal: OtlpSignal, receiver: OtlpReceiver): Promise<void> {
  const { ingest } = receiver;
  if (ingest === undefined) {
    return sendOtlpStatus(
      res,
      'json',
      404,
      'This dashboard receives no traces: it was created without the traces option (createDashboard({ traces: { store } })).',
    );
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return sendOtlpStatus(res, 'json', 405, `${req.method} is not an OTLP export: send spans with POST.`);
  }
  const format = otlpFormat(req);
  if (format === undefined) {
    return sendOtlpStatus(
      res,
      'json',
      415,
      `Expected an OTLP body, application/x-protobuf or application/json; received ${req.headers['content-type'] || 'no Content-Type'}.`,
    );
  }
  const encoding = otlpEncoding(req);
  if (encoding === undefined) {
    return sendOtlpStatus(
      res,
      format,
      415,
      `Content-Encoding ${req.headers['content-encoding']} is not supported: send gzip, deflate or none.`,
    );
  }
  const foreign = fromBrowser(req) ? crossOriginRefusal(req) : undefined;
  if (foreign !== undefined) return sendOtlpStatus(res, format, 403, `Refused, nothing was stored: ${foreign}.`);

  const body = await readOtlpBody(req, encoding);
  if ('status' in body) {
    if (body.disconnected) return;
    if (body.status === 413) res.setHeader('Connection', 'close');
    return sendOtlpStatus(res, format, body.status, body.message);
  }
  if (signal !== 'traces') return dropSignal(res, format, signal, receiver);
  let spans;
  try {
    spans = decodeTraces(body.bytes, format);
  } catch (error) {
    if (!(error instanceof OtlpDecodeError)) throw error;
    return sendOtlpStatus(res, format, 400, `Not a valid OTLP export, nothing was stored: ${error.message}`);
  }
  let outcome: 'stored' | 'busy';
  try {
    outcome = await ingest.submit(spans);
  } catch {
    // Logged by the ingest, once for a whole burst of failures.
    return sendOtlpStatus(res, format, 503, 'The trace store could not write the spans, nothing was acknowledged: retry later.');
  }
  if (outcome === 'busy') {
    return sendOtlpStatus(res, format, 429, 'The dashboard has more spans waiting to be written than it keeps in memory: retry later.');
  }
  sendOtlpSuccess(res, format);
}

/**
 * Only a browser sends `Sec-Fetch-Site` or `Origin`; exporters (the OpenTelemetry SDKs, the
 * Collector) send neither, and are not asked for them, as a form POST is.
 */
function fromBrowser(req: IncomingMessage): boolean {
  return req.headers['sec-fetch-site'] !== undefined || req.headers.origin !== undefined;
}

/** A metrics or logs export, read whole and well-formed as far as its envelope goes: answered 200, kept nowhere. */
function dropSignal(res: ServerResponse, format: OtlpFormat, signal: OtlpSignal, receiver: OtlpReceiver): void {
  if (!receiver.dropped.has(signal)) {
    receiver.dropped.add(signal);
    receiver.logger.info(
      `dashboard: OTLP ${signal} received and dropped: the dashboard keeps traces only (set OTEL_${signal.toUpperCase()}_EXPORTER=none to stop sending them, or send them to a backend that keeps them)`,
    );
  }
  sendOtlpSuccess(res, format);
}
