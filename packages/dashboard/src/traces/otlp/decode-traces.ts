import type { SpanRecord } from '../../spans/model.ts';
import { decodeJsonTraces } from './decode-json.ts';
import { decodeProtobufTraces } from './decode-protobuf.ts';
import { OtlpDecodeError } from './otlp-decode-error.ts';

/** The two encodings of OTLP/HTTP: `application/x-protobuf` and `application/json`. */
export type OtlpEncoding = 'protobuf' | 'json';

// Fatal: a JSON body that is not UTF-8 is refused rather than decoded with replacement characters.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the body of an OTLP/HTTP `POST /v1/traces` (already decompressed) into span records, every
 * span carrying its resource's attributes and its instrumentation scope.
 *
 * @throws OtlpDecodeError when the body is not a valid `ExportTraceServiceRequest`: nothing of it is kept.
 */
export function decodeTraces(body: Uint8Array, contentType: OtlpEncoding): SpanRecord[] {
  if (contentType === 'protobuf') return decodeProtobufTraces(body);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (error) {
    throw new OtlpDecodeError('Invalid OTLP JSON body: it is not UTF-8 text', { cause: error });
  }
  return decodeJsonTraces(text);
}
