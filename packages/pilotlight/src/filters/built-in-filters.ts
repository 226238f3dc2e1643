import type { ResolvedRetry } from '../config/resolve.ts';
import { ContinuationsFilter } from '../states/continuations-filter.ts';
import { AutomaticRetryFilter } from '../states/retry-filter.ts';
import type { Logger } from '../util/logger.ts';
import type { JobFilter } from './filter.ts';
import { FilterPipeline } from './filter-pipeline.ts';

/** The pipeline of a client or worker: the built-in filters (retry, continuations), then the user's. */
export function createPipeline(userFilters: readonly JobFilter[], retry: ResolvedRetry, logger: Logger): FilterPipeline {
  return new FilterPipeline([new AutomaticRetryFilter(retry), new ContinuationsFilter(), ...userFilters], logger);
}
