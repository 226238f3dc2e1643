import type { ResolvedRetry } from '../config/resolve.ts';
import { MetricsFilter } from '../telemetry/metrics-filter.ts';
import type { ResolvedMetricsOptions } from '../telemetry/metrics-options.ts';
import { TracingFilter } from '../telemetry/tracing-filter.ts';
import type { ResolvedTracingOptions } from '../telemetry/tracing-options.ts';
import { BatchFilter } from '../states/batch-filter.ts';
import { ContinuationsFilter } from '../states/continuations-filter.ts';
import { AutomaticRetryFilter } from '../states/retry-filter.ts';
import type { Logger } from '../util/logger.ts';
import type { JobFilter } from '../filters/filter.ts';
import { FilterPipeline } from '../filters/filter-pipeline.ts';

/** The telemetry of a client or worker: what its pipeline traces and measures. */
export interface PipelineTelemetry {
  readonly tracing: ResolvedTracingOptions;
  readonly metrics: ResolvedMetricsOptions;
}

/** The pipeline of a client or worker: the built-in filters (tracing, metrics, retry, continuations, batches), then the user's. */
export function createPipeline(
  userFilters: readonly JobFilter[],
  retry: ResolvedRetry,
  { tracing, metrics }: PipelineTelemetry,
  logger: Logger,
): FilterPipeline {
  const builtIn: JobFilter[] = [new AutomaticRetryFilter(retry), new ContinuationsFilter(), new BatchFilter()];
  if (tracing.enabled) builtIn.push(new TracingFilter(tracing));
  if (metrics.enabled) builtIn.push(new MetricsFilter(metrics.meterProvider));
  return new FilterPipeline([...builtIn, ...userFilters], logger);
}
