import type { IncomingMessage } from 'node:http';
import { LIMITS } from '../config/defaults.ts';

export type FormBody = { readonly form: URLSearchParams } | { readonly status: 400 | 413 | 415; readonly message: string };

/**
 * The fields of a form POST (`application/x-www-form-urlencoded`), at most `LIMITS.maxBodyBytes`:
 * a larger body is answered 413 as soon as it passes the limit, without keeping the rest. A body a
 * framework has already parsed (Express's `express.urlencoded()` leaves it in `req.body`) is taken
 * from there.
 */
export function readForm(req: IncomingMessage): Promise<FormBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return Promise.resolve({
      status: 415,
      message: `Expected a form (application/x-www-form-urlencoded); received ${type || 'no Content-Type'}.`,
    });
  }
  const parsed = (req as { body?: unknown }).body;
  if (req.readableEnded) {
    if (typeof parsed === 'object' && parsed !== null) return Promise.resolve({ form: fromParsed(parsed) });
    return Promise.resolve({
      status: 400,
      message: 'The request body was read before the dashboard got it, and left nowhere it can find.',
    });
  }
  const tooLarge = { status: 413, message: `The form is larger than ${LIMITS.maxBodyBytes} bytes.` } as const;
  if (Number(req.headers['content-length']) > LIMITS.maxBodyBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= LIMITS.maxBodyBytes) {
        chunks.push(chunk);
        return;
      }
      // Keep reading (and dropping) the rest, so that the 413 reaches the client.
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.resume();
      resolve(tooLarge);
    };
    const onEnd = () => resolve({ form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => resolve({ status: 400, message: 'The request body could not be read.' }));
  });
}

/** Fields from a parsed body object: strings and lists of strings; anything else is dropped. */
function fromParsed(body: object): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string') form.append(name, item);
  }
  return form;
}
