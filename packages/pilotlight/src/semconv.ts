/**
 * `pilotlight/semconv`: the names Pilotlight's telemetry uses (tracer and meter names, span operations,
 * attribute keys, event names, instruments), for dashboards, alerts and trace queries built on them. They follow
 * the OpenTelemetry messaging semantic conventions where one applies, and `pilotlight.*` (or
 * `hangfire.*`, see the tracing option `attributeNamespace`) where none does.
 */
export {
  DEBOUNCED_EVENT,
  ERROR_TYPE,
  JOB_TRACER_NAME,
  jobAttributes,
  MESSAGING_SYSTEM,
  MessagingAttributes,
  PARENTING_METADATA_KEY,
  SpanOperations,
  stateEventName,
} from './telemetry/names.ts';
export type { JobAttributeNames, SpanOperation } from './telemetry/names.ts';
export {
  AttemptOutcomes,
  DURATION_BUCKETS_SECONDS,
  METER_NAME,
  MetricAttributes,
  MetricNames,
  StoreOperations,
} from './telemetry/metric-names.ts';
export type { AttemptOutcome, MetricName } from './telemetry/metric-names.ts';
export {
  ExceptionAttributes,
  TASK_CANCELLED_DESCRIPTION,
  TASK_SPAN_PREFIX,
  TASK_TRACER_NAME,
  TaskAttributes,
  TaskEvents,
  TaskProgressAttributes,
  taskSpanName,
} from './tasks/names.ts';
