/**
 * Flushes this process's spans before it exits. The processes are started with
 * `node --import @pilotlight/otel/register`, which starts telemetry before the application's modules
 * load (so node:http, Express and fetch are instrumented). A process that ends itself with
 * `process.exit()` must shut telemetry down first: `startTelemetry()` returns the instance the hook
 * started, and its `shutdown()` prints (or sends) the last traces.
 */
import { startTelemetry } from '@pilotlight/otel';

export async function flushTelemetry(): Promise<void> {
  await startTelemetry().shutdown();
}
