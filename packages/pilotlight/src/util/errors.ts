import type { ErrorDetails } from '../types.ts';

/** What is stored about a thrown value: its type, message and stack, whatever was thrown. */
export function toErrorDetails(thrown: unknown): ErrorDetails {
  if (thrown instanceof Error) {
    return { type: thrown.name || thrown.constructor.name, message: thrown.message, ...(thrown.stack && { stack: thrown.stack }) };
  }
  let message: string;
  try {
    message = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    message = String(thrown);
  }
  return { type: thrown === null ? 'null' : typeof thrown, message: `A non-Error value was thrown: ${message}` };
}
