import { ValidationError } from '../errors.ts';
import { LIMITS } from './limits.ts';
import { describe, validateStorableText } from './validate.ts';

/**
 * A job's metadata as the caller gives it: an object of strings, small (ids and tags, not
 * payloads: see `LIMITS`), with keys and values every store can keep as they are.
 */
export function validateMetadata(metadata: unknown, option: string): Readonly<Record<string, string>> {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ValidationError(`${option} must be an object of strings; received ${describe(metadata)}`);
  }
  const symbol = Object.getOwnPropertySymbols(metadata)[0];
  if (symbol !== undefined)
    throw new ValidationError(`${option} has a symbol key ${String(symbol)}, which is not stored: use a string key`);
  let total = 0;
  for (const [key, value] of Object.entries(metadata)) {
    const name = /^[A-Za-z_$][\w$]*$/.test(key) ? `${option}.${key}` : `${option}[${describe(key)}]`;
    if (key.length === 0 || key.length > LIMITS.maxMetadataKeyLength) {
      throw new ValidationError(`${option} keys must be 1 to ${LIMITS.maxMetadataKeyLength} characters; received ${describe(key)}`);
    }
    validateStorableText(key, `${option} key ${describe(key)}`);
    if (typeof value !== 'string') throw new ValidationError(`${name} must be a string; received ${describe(value)}`);
    validateStorableText(value, name);
    const bytes = Buffer.byteLength(value);
    if (bytes > LIMITS.maxMetadataValueBytes) {
      throw new ValidationError(
        `${name} is ${bytes} bytes; the limit is ${LIMITS.maxMetadataValueBytes} (4 KiB): keep ids and tags in metadata, and data in the arguments`,
      );
    }
    total += bytes + Buffer.byteLength(key);
  }
  if (total > LIMITS.maxMetadataBytes) {
    throw new ValidationError(
      `${option} is ${total} bytes (keys and values); the limit is ${LIMITS.maxMetadataBytes} (16 KiB): keep ids and tags in metadata, and data in the arguments`,
    );
  }
  return metadata as Readonly<Record<string, string>>;
}
