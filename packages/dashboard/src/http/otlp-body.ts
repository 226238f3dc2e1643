import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { TRACE_LIMITS } from '../config/defaults.ts';

/** The `Content-Encoding`s an OTLP exporter may send (`compression: 'gzip'`, or none). */
export type OtlpEncoding = 'gzip' | 'deflate' | 'identity';

export type OtlpBody =
  | { readonly bytes: Buffer }
  /** `disconnected`: the client went away before its body was read; there is no one to answer. */
  | { readonly status: 400 | 413; readonly message: string; readonly disconnected?: true };

/** The request's `Content-Encoding`, or undefined when the receiver cannot decode it. */
export function otlpEncoding(req: IncomingMessage): OtlpEncoding | undefined {
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return 'identity';
  return encoding === 'gzip' || encoding === 'deflate' ? encoding : undefined;
}

/**
 * The request's body, decompressed, within `TRACE_LIMITS`: at most `maxOtlpBodyBytes` as sent and
 * `maxOtlpDecodedBytes` once inflated. Inflating is streamed and stops at the cap, so a gzip bomb
 * costs the cap, not its whole size. A truncated or corrupt compressed stream is a 400.
 *
 * A body a framework has already read (Express's `express.raw()` or `express.json()`, which also
 * inflate it) is taken from `req.body`.
 */
export function readOtlpBody(req: IncomingMessage, encoding: OtlpEncoding): Promise<OtlpBody> {
  if (req.readableEnded) return Promise.resolve(parsedBody(req));
  if (Number(req.headers['content-length']) > TRACE_LIMITS.maxOtlpBodyBytes) return Promise.resolve(wireTooLarge());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let wireBytes = 0;
    let decodedBytes = 0;
    let settled = false;
    const inflater: Gunzip | Inflate | undefined =
      encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : undefined;

    const finish = (result: OtlpBody): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      inflater?.destroy();
      if ('status' in result && !result.disconnected) req.resume(); // drop the rest, so that the answer reaches the client
      resolve(result);
    };
    const collect = (chunk: Buffer): void => {
      decodedBytes += chunk.length;
      if (decodedBytes > TRACE_LIMITS.maxOtlpDecodedBytes) {
        return finish({
          status: 413,
          message: `The request body is larger than ${TRACE_LIMITS.maxOtlpDecodedBytes} bytes once decompressed.`,
        });
      }
      chunks.push(chunk);
    };
    const onData = (chunk: Buffer): void => {
      wireBytes += chunk.length;
      if (wireBytes > TRACE_LIMITS.maxOtlpBodyBytes) return finish(wireTooLarge());
      if (inflater) inflater.write(chunk);
      else collect(chunk);
    };
    const done = (): void => finish({ bytes: Buffer.concat(chunks) });

    req.on('data', onData);
    req.on('end', () => (inflater ? inflater.end() : done()));
    // A client that disconnects mid-body (or a socket error) is an ordinary end, not a failure to log.
    req.on('error', () => finish({ status: 400, message: 'The request body could not be read.', disconnected: true }));
    req.on('close', () => {
      if (!req.complete)
        finish({ status: 400, message: 'The client closed the connection before sending its whole body.', disconnected: true });
    });
    inflater?.on('data', collect);
    inflater?.on('end', done);
    inflater?.on('error', (error) =>
      finish({ status: 400, message: `The body is not valid ${encoding} data, or it is truncated (${error.message}).` }),
    );
  });
}

function wireTooLarge(): OtlpBody {
  return { status: 413, message: `The request body is larger than ${TRACE_LIMITS.maxOtlpBodyBytes} bytes.` };
}

/** The body a framework left in `req.body`: bytes, or the JSON it parsed (encoded again, for the decoder). */
function parsedBody(req: IncomingMessage): OtlpBody {
  const parsed = (req as { body?: unknown }).body;
  if (parsed instanceof Uint8Array) return { bytes: Buffer.from(parsed) };
  if (typeof parsed === 'object' && parsed !== null) return { bytes: Buffer.from(JSON.stringify(parsed)) };
  return {
    status: 400,
    message: 'The request body was read before the dashboard got it, and left nowhere it can find (req.body).',
  };
}
