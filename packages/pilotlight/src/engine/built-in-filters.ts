import type { ResolvedRetry } from '../config/resolve.ts';
import { TracingFilter } from '../telemetry/tracing-filter.ts';
import type { ResolvedTracingOptions } from '../telemetry/tracing-options.ts';
import { ContinuationsFilter } from '../states/continuations-filter.ts';
import { AutomaticRetryFilter } from '../states/retry-filter.ts';
import type { Logger } from '../util/logger.ts';
import type { JobFilter } from '../filters/filter.ts';
import { FilterPipeline } from '../filters/filter-pipeline.ts';

/** The pipeline of a client or worker: the built-in filters (tracing, retry, continuations), then the user's. */
export function createPipeline(
  userFilters: readonly JobFilter[],
  retry: ResolvedRetry,
  tracing: ResolvedTracingOptions,
  logger: Logger,
): FilterPipeline {
  const builtIn: JobFilter[] = [new AutomaticRetryFilter(retry), new ContinuationsFilter()];
  if (tracing.enabled) builtIn.unshift(new TracingFilter(tracing));
  return new FilterPipeline([...builtIn, ...userFilters], logger);
}
