/**
 * `node --import @pilotlight/otel/register app.ts` (or `import '@pilotlight/otel/register'` as the
 * application's first import): starts telemetry from the OTEL_* environment variables alone, before
 * the application's modules are loaded, so that http, express and pg are instrumented.
 *
 * Telemetry is flushed and shut down:
 * - when the process runs out of work and is about to exit on its own (`beforeExit`);
 * - on SIGTERM / SIGINT. If nothing else listens to the signal, the signal is raised again once
 *   telemetry is shut down (at most 5 s), so the process ends as it would have without this module
 *   (killed by the signal: exit status 128 + signal number). If the application listens too (a
 *   Pilotlight worker with `handleSignals: true`, an HTTP server closing), the application decides
 *   when the process ends: pending spans are flushed at once, and the final shutdown happens at
 *   `beforeExit`. An application that calls `process.exit()` itself should
 *   `await startTelemetry().shutdown()` first (startTelemetry() returns this same instance).
 */
import { startTelemetry } from './telemetry.ts';

const SHUTDOWN_TIMEOUT_MS = 5000;
const telemetry = startTelemetry();

let exiting = false;
process.once('beforeExit', () => {
  exiting = true;
  void telemetry.shutdown();
});

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 0) {
    // The application handles this signal and will end the process: export what has ended so far.
    void telemetry.forceFlush();
    return;
  }
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref());
  void Promise.race([telemetry.shutdown(), timeout]).then(() => {
    if (!exiting) process.kill(process.pid, signal); // no listener left: the default action ends the process
  });
}
process.once('SIGTERM', onSignal);
process.once('SIGINT', onSignal);
