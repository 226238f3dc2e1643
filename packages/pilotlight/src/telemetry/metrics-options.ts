import type { MeterProvider } from '@opentelemetry/api';
import { ValidationError } from '../errors.ts';
import { describe } from '../validation/validate.ts';

export interface MetricsOptions {
  /**
   * Record metrics (see `MetricNames`). Costs almost nothing while no OpenTelemetry `MeterProvider`
   * is registered. Instruments are created when the worker starts (or at the client's first
   * enqueue, the task manager's first task): register the SDK before that. @default true
   */
  readonly enabled?: boolean;
  /** @default the global meter provider (`metrics.getMeterProvider()`) */
  readonly meterProvider?: MeterProvider;
}

export interface ResolvedMetricsOptions {
  readonly enabled: boolean;
  readonly meterProvider: MeterProvider | undefined;
}

export function resolveMetricsOptions(options: MetricsOptions = {}, option = 'metrics'): ResolvedMetricsOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`${option} must be an object such as { enabled: false }; received ${describe(options)}`);
  }
  const enabled = options.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new ValidationError(`${option}.enabled must be a boolean; received ${describe(enabled)}`);
  const provider = options.meterProvider;
  if (provider !== undefined && (typeof provider !== 'object' || provider === null || typeof provider.getMeter !== 'function')) {
    throw new ValidationError(`${option}.meterProvider must be a MeterProvider (with getMeter()); received ${describe(provider)}`);
  }
  return { enabled, meterProvider: provider };
}
