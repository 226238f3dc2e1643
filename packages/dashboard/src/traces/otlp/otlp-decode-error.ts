import { ErrorCodes, PilotlightError } from 'pilotlight';

/**
 * An OTLP request body that is not a valid `ExportTraceServiceRequest` (truncated or malformed
 * protobuf, JSON of the wrong shape, a span with an invalid id…). The receiver answers 400 and keeps
 * nothing of the request. The message says what is wrong and where: a byte offset for protobuf, a
 * path (`resourceSpans[0].scopeSpans[1].spans[3].traceId`) for JSON.
 */
export class OtlpDecodeError extends PilotlightError {
  override name = 'OtlpDecodeError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.OTLP_INVALID, message, options);
  }
}
