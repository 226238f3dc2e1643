export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.ts';
export { ConsoleTraceTreeExporter, type ConsoleTreeOptions } from './console-tree.ts';
