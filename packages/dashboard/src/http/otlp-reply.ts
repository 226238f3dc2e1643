import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRACE_LIMITS } from '../config/defaults.ts';

/** The two encodings of OTLP/HTTP, told apart by the request's `Content-Type`. */
export type OtlpFormat = 'protobuf' | 'json';

const CONTENT_TYPES: Readonly<Record<OtlpFormat, string>> = { protobuf: 'application/x-protobuf', json: 'application/json' };

/** The `google.rpc.Code` of each HTTP status the receiver answers with (the `code` of its `Status` body). */
const RPC_CODES: Readonly<Record<number, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  413: 3, // INVALID_ARGUMENT: too large, not worth retrying as is
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};

/** The format of the request's body, or undefined when its `Content-Type` is neither (parameters such as `charset` are allowed). */
export function otlpFormat(req: IncomingMessage): OtlpFormat | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === CONTENT_TYPES.protobuf) return 'protobuf';
  if (type === CONTENT_TYPES.json) return 'json';
  return undefined;
}

/** 200 with an empty `ExportTraceServiceResponse` (no partial success): 0 bytes in protobuf, `{}` in JSON. */
export function sendOtlpSuccess(res: ServerResponse, format: OtlpFormat): void {
  send(res, 200, format, format === 'json' ? Buffer.from('{}') : Buffer.alloc(0));
}

/**
 * A refusal as the OTLP/HTTP specification has it: the status, and a `google.rpc.Status` body in
 * the request's format (JSON when it has none the receiver knows). 429 and 503, the statuses an
 * exporter retries, say when with `Retry-After`.
 */
export function sendOtlpStatus(res: ServerResponse, format: OtlpFormat, status: number, message: string): void {
  if (status === 429 || status === 503) res.setHeader('Retry-After', String(TRACE_LIMITS.retryAfterSeconds));
  const code = RPC_CODES[status] ?? 2; // UNKNOWN
  const body = format === 'json' ? Buffer.from(JSON.stringify({ code, message })) : encodeStatus(code, message);
  send(res, status, format, body);
}

/** `google.rpc.Status` in protobuf: field 1 `code` (int32, varint), field 2 `message` (string). */
export function encodeStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from([0x08, ...varint(code), 0x12, ...varint(text.length)]), text]);
}

/** A non-negative integer as a protobuf varint: 7 bits a byte, low first, the high bit set on all but the last. */
function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

function send(res: ServerResponse, status: number, format: OtlpFormat, body: Buffer): void {
  // A client gone (it disconnected mid-request) is no error: there is no one left to answer.
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': CONTENT_TYPES[format], 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(body);
}
