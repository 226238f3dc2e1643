import type { SpanKind, SpanStatusCode } from './model.ts';

/**
 * A parsed trace query: conditions that must all hold (`AND`), as written on the traces page, e.g.
 * `name LIKE "process %" AND status = ERROR`, `duration > 5m`, `task.duration_ms > 300000`,
 * `pilotlight.job.type = "TenantService"`.
 */
export type SpanCondition =
  NameCondition | ServiceCondition | KindCondition | StatusCondition | DurationCondition | TraceCondition | AttributeCondition;

export type Comparison = '=' | '!=' | '>' | '>=' | '<' | '<=';
/** `LIKE`: `%` matches any run of characters, `_` any one character; case-sensitive. */
export type TextComparison = '=' | '!=' | 'LIKE' | 'NOT LIKE';

export interface NameCondition {
  readonly field: 'name';
  readonly op: TextComparison;
  readonly value: string;
}

/** The resource's `service.name`. */
export interface ServiceCondition {
  readonly field: 'service';
  readonly op: TextComparison;
  readonly value: string;
}

export interface KindCondition {
  readonly field: 'kind';
  readonly op: '=' | '!=';
  readonly value: SpanKind;
}

export interface StatusCondition {
  readonly field: 'status';
  readonly op: '=' | '!=';
  readonly value: SpanStatusCode;
}

/** `endUs - startUs`, in microseconds (`duration > 5m` is `> 300000000`). */
export interface DurationCondition {
  readonly field: 'duration';
  readonly op: Comparison;
  readonly valueUs: number;
}

export interface TraceCondition {
  readonly field: 'trace';
  readonly op: '=';
  /** 32 lowercase hex digits. */
  readonly value: string;
}

/**
 * A span attribute (or, when the span has no attribute of that key, its resource's): `task.status =
 * "Failed"`, `task.duration_ms > 300000`, `process.pid = 4242`. A string compares as text, a number
 * numerically (an attribute holding another type never matches a number), a boolean as such. `!=`
 * also matches spans without the attribute.
 */
export interface AttributeCondition {
  readonly field: 'attribute';
  readonly key: string;
  readonly op: Comparison | 'LIKE' | 'NOT LIKE';
  readonly value: string | number | boolean;
}
