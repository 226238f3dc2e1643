/**
 * A head sampler for Pilotlight's job spans: a share of traces to keep per job type, queue and
 * recurring job, decided when the span starts, from the attributes the job tracer gives it then.
 */
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import { checkNamespace, DEFAULT_NAMESPACE, JobSpanAttributes } from './job-span-attributes.ts';
import { checkChoice, checkObject, checkRatio } from './validate.ts';

/** What to do with an attempt after the first (`pilotlight.job.attempt` > 1). */
export type LaterAttempts = 'keep' | 'sample';

const LATER_ATTEMPTS: readonly LaterAttempts[] = ['keep', 'sample'];

export interface JobSamplerOptions {
  /**
   * Share of traces kept (0 to 1) for job spans no rule below matches, and for every root span
   * that is not a job's (an HTTP request, a task): the rest of the service is sampled at this ratio.
   * @default 1
   */
  readonly ratio?: number;
  /** Share per job type (`pilotlight.job.type`: `'email.send'`, or a job class's name). */
  readonly types?: Readonly<Record<string, number>>;
  /** Share per queue (`messaging.destination.name`). */
  readonly queues?: Readonly<Record<string, number>>;
  /** Share per recurring job id (`pilotlight.job.recurring_id`): every occurrence of that recurring job. */
  readonly recurring?: Readonly<Record<string, number>>;
  /**
   * `'keep'`: every attempt after the first (a retry, a run after a lost lease) is recorded and
   * sampled, whatever the ratios, so a job that needed a retry is always visible. `'sample'`: later
   * attempts are sampled like first attempts.
   * @default 'keep'
   */
  readonly laterAttempts?: LaterAttempts;
  /** The tracing option `attributeNamespace` the job spans were made with (`'hangfire'`). @default 'pilotlight' */
  readonly namespace?: string;
}

/** The options with their defaults, validated. */
export interface ResolvedJobSamplerOptions {
  readonly ratio: number;
  readonly types: ReadonlyMap<string, number>;
  readonly queues: ReadonlyMap<string, number>;
  readonly recurring: ReadonlyMap<string, number>;
  readonly laterAttempts: LaterAttempts;
  readonly namespace: string;
}

const KEEP: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const DROP: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/**
 * Validates `options` (`option` names them in messages: `createJobSampler() options`) and applies
 * the defaults. Throws a TypeError or RangeError naming the option and the value received.
 */
export function resolveJobSamplerOptions(options: JobSamplerOptions | undefined, option: string): ResolvedJobSamplerOptions {
  const given = checkObject(options, option) ?? {};
  return {
    ratio: checkRatio(given.ratio ?? 1, `${option}.ratio`),
    types: ratios(given.types, `${option}.types`),
    queues: ratios(given.queues, `${option}.queues`),
    recurring: ratios(given.recurring, `${option}.recurring`),
    laterAttempts: checkChoice(given.laterAttempts ?? 'keep', LATER_ATTEMPTS, `${option}.laterAttempts`),
    namespace: checkNamespace(given.namespace ?? DEFAULT_NAMESPACE, `${option}.namespace`),
  };
}

/** A record of ratios as a Map: no inherited keys (`constructor`, `__proto__`) can match a job. */
function ratios(record: Readonly<Record<string, number>> | undefined, option: string): ReadonlyMap<string, number> {
  const entries = Object.entries(checkObject(record, option) ?? {});
  return new Map(entries.map(([name, ratio]) => [name, checkRatio(ratio, `${option}[${JSON.stringify(name)}]`)]));
}

/**
 * Creates a job sampler. Use it as the root of a parent-based sampler, `sampler.parentBased()`,
 * so that the spans under a job span (its queries, its HTTP calls) follow the job span's decision.
 */
export function createJobSampler(options: JobSamplerOptions = {}): JobSampler {
  return new JobSampler(resolveJobSamplerOptions(options, 'createJobSampler() options'));
}

/**
 * The decision for a span that starts a trace (or is asked directly):
 * - a job span (`messaging.system` = `pilotlight`) whose `pilotlight.job.attempt` is above 1, with
 *   `laterAttempts: 'keep'`: kept;
 * - another job span: the ratio of its recurring job id, else of its job type, else of its queue,
 *   else `ratio` (the most specific rule wins);
 * - any other span: `ratio`.
 *
 * A ratio is applied as the SDK's `TraceIdRatioBasedSampler` does, on the trace id: the same trace
 * gets the same decision everywhere the same ratio applies (each process, each attempt in a trace).
 */
export class JobSampler implements Sampler {
  readonly #options: ResolvedJobSamplerOptions;
  readonly #attributes: JobSpanAttributes;
  readonly #default: Sampler;
  readonly #types: ReadonlyMap<string, Sampler>;
  readonly #queues: ReadonlyMap<string, Sampler>;
  readonly #recurring: ReadonlyMap<string, Sampler>;

  /** Made by `createJobSampler(options)`, which validates the options. */
  constructor(options: ResolvedJobSamplerOptions) {
    this.#options = options;
    this.#attributes = new JobSpanAttributes(options.namespace);
    this.#default = new TraceIdRatioBasedSampler(options.ratio);
    this.#types = samplers(options.types);
    this.#queues = samplers(options.queues);
    this.#recurring = samplers(options.recurring);
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    return this.#samplerFor(attributes).shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  /**
   * A `ParentBasedSampler` whose root is this sampler: a span with a parent follows the parent's
   * decision, except that an attempt after the first is kept under an unsampled parent too (with
   * `laterAttempts: 'keep'`), so a retry shows even when the job's creation was not sampled.
   */
  parentBased(): ParentBasedSampler {
    if (this.#options.laterAttempts === 'sample') return new ParentBasedSampler({ root: this });
    const laterAttemptsOnly = new LaterAttemptsSampler(this.#attributes);
    return new ParentBasedSampler({ root: this, remoteParentNotSampled: laterAttemptsOnly, localParentNotSampled: laterAttemptsOnly });
  }

  toString(): string {
    const { ratio, types, queues, recurring, laterAttempts, namespace } = this.#options;
    const rules = [
      `ratio=${ratio}`,
      ...[...recurring].map(([id, r]) => `recurring:${id}=${r}`),
      ...[...types].map(([type, r]) => `type:${type}=${r}`),
      ...[...queues].map(([queue, r]) => `queue:${queue}=${r}`),
      `laterAttempts=${laterAttempts}`,
      ...(namespace === DEFAULT_NAMESPACE ? [] : [`namespace=${namespace}`]),
    ];
    return `JobSampler{${rules.join(', ')}}`;
  }

  #samplerFor(attributes: Attributes): Sampler {
    const job = this.#attributes;
    if (!job.isJobSpan(attributes)) return this.#default;
    if (this.#options.laterAttempts === 'keep' && job.isLaterAttempt(attributes)) return ALWAYS_KEEP;
    return (
      ruleFor(this.#recurring, job.recurringId(attributes)) ??
      ruleFor(this.#types, job.type(attributes)) ??
      ruleFor(this.#queues, job.queue(attributes)) ??
      this.#default
    );
  }
}

function samplers(ratios: ReadonlyMap<string, number>): ReadonlyMap<string, Sampler> {
  return new Map([...ratios].map(([name, ratio]) => [name, new TraceIdRatioBasedSampler(ratio)]));
}

function ruleFor(rules: ReadonlyMap<string, Sampler>, name: string | undefined): Sampler | undefined {
  return name === undefined ? undefined : rules.get(name);
}

const ALWAYS_KEEP: Sampler = { shouldSample: () => KEEP, toString: () => 'AlwaysKeep' };

/** Under an unsampled parent: keeps attempts after the first, drops every other span. */
class LaterAttemptsSampler implements Sampler {
  readonly #attributes: JobSpanAttributes;

  constructor(attributes: JobSpanAttributes) {
    this.#attributes = attributes;
  }

  shouldSample(_context: Context, _traceId: string, _spanName: string, _spanKind: SpanKind, attributes: Attributes): SamplingResult {
    return this.#attributes.isJobSpan(attributes) && this.#attributes.isLaterAttempt(attributes) ? KEEP : DROP;
  }

  toString(): string {
    return 'JobLaterAttemptsOnly';
  }
}
