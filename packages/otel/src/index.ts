export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.ts';
export { ConsoleTraceTreeExporter, type ConsoleTreeOptions } from './console-tree.ts';
export { createJobSampler, type JobSampler, type JobSamplerOptions, type LaterAttempts } from './sampling/job-sampler.ts';
export { JobTailSamplingProcessor } from './sampling/tail-sampling-processor.ts';
export type { TailSamplingOptions } from './sampling/tail-sampling-options.ts';
