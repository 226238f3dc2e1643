import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SpanIngest } from '../traces/ingest/span-ingest.ts';
import { decodeTraces } from '../traces/otlp/decode-traces.ts';
import { OtlpDecodeError } from '../traces/otlp/otlp-decode-error.ts';
import { otlpEncoding, readOtlpBody } from './otlp-body.ts';
import { otlpFormat, sendOtlpStatus, sendOtlpSuccess } from './otlp-reply.ts';
import { crossOriginRefusal } from './same-origin.ts';

/** The standard OTLP/HTTP path of traces, under the base path: an exporter's endpoint plus `/v1/traces`. */
export function isOtlpTracesPath(segments: readonly string[]): boolean {
  return segments.length === 2 && segments[0] === 'v1' && segments[1] === 'traces';
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
 * `POST {basePath}/v1/traces`, an OTLP/HTTP export (https://opentelemetry.io/docs/specs/otlp/#otlphttp),
 * once the access check passed: the body, protobuf or JSON, gzip, deflate or plain, is decoded
 * whole, then its spans are submitted to the ingest, and the request is answered 200 only once
 * they are durable. Bad bodies get a 4xx and store nothing; a receiver behind answers 429, a
 * failing trace store 503, both with `Retry-After` (the exporters retry those, and only those).
 *
 * Exporters are not browsers: no CSRF token is asked for. A request that a browser sent from
 * another site (`Sec-Fetch-Site`, `Origin`) is refused as every cross-origin form POST is.
 */
export async function receiveTraces(req: IncomingMessage, res: ServerResponse, ingest: SpanIngest | undefined): Promise<void> {
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
