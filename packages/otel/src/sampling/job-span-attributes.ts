/**
 * The attributes of Pilotlight's job spans that the samplers read, all set when the span starts (as
 * a sampler needs them). They are Pilotlight's telemetry schema (`pilotlight/semconv`), restated
 * here because this package depends on no Pilotlight package: the OpenTelemetry messaging semantic
 * conventions' `messaging.*`, and `pilotlight.job.*` under the namespace of the tracing option
 * `attributeNamespace` (`hangfire.job.type` with `'hangfire'`).
 */
import type { Attributes } from '@opentelemetry/api';
import { describeValue } from './validate.ts';

/** `messaging.system` of every job span, whatever the attribute namespace. */
const MESSAGING_SYSTEM = 'pilotlight';
const SYSTEM = 'messaging.system';
const OPERATION_TYPE = 'messaging.operation.type';
const DESTINATION = 'messaging.destination.name';

/** @default 'pilotlight' */
export const DEFAULT_NAMESPACE = 'pilotlight';

/** Reads what sampling needs from the attributes a job span starts with. */
export class JobSpanAttributes {
  readonly #type: string;
  readonly #attempt: string;
  readonly #recurringId: string;

  constructor(namespace: string) {
    this.#type = `${namespace}.job.type`;
    this.#attempt = `${namespace}.job.attempt`;
    this.#recurringId = `${namespace}.job.recurring_id`;
  }

  /** Any span of a job: a creation (`send`), an attempt (`process`), a state change (`settle`). */
  isJobSpan(attributes: Attributes): boolean {
    return attributes[SYSTEM] === MESSAGING_SYSTEM;
  }

  /** An attempt after the first: a retry, or a run after the previous worker lost its lease. */
  isLaterAttempt(attributes: Attributes): boolean {
    const attempt = attributes[this.#attempt];
    return typeof attempt === 'number' && attempt > 1;
  }

  type(attributes: Attributes): string | undefined {
    return text(attributes[this.#type]);
  }

  queue(attributes: Attributes): string | undefined {
    return text(attributes[DESTINATION]);
  }

  recurringId(attributes: Attributes): string | undefined {
    return text(attributes[this.#recurringId]);
  }
}

/** The CONSUMER span of one attempt (namespace-independent: only `messaging.*` is read). */
export function isAttemptSpan(attributes: Attributes): boolean {
  return attributes[SYSTEM] === MESSAGING_SYSTEM && attributes[OPERATION_TYPE] === 'process';
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The rule of the tracing option `attributeNamespace`: a lowercase dotted name. */
export function isNamespace(value: string): boolean {
  return /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/.test(value);
}

export function checkNamespace(value: unknown, option: string): string {
  const expected = "a lowercase dotted name such as 'pilotlight' or 'hangfire' (the tracing option attributeNamespace)";
  if (typeof value !== 'string') throw new TypeError(`${option} must be ${expected}; received ${describeValue(value)}`);
  if (!isNamespace(value)) throw new RangeError(`${option} must be ${expected}; received ${describeValue(value)}`);
  return value;
}
