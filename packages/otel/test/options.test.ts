/** startTelemetry() rejects bad options before it starts anything, naming the option and the value. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTelemetry, type TelemetryOptions } from '@pilotlight/otel';

describe('startTelemetry() options', () => {
  it('rejects a bad serviceName', () => {
    assert.throws(() => startTelemetry({ serviceName: '' }), {
      name: 'TypeError',
      message: 'startTelemetry() options.serviceName must be a non-empty string; received ""',
    });
    assert.throws(() => startTelemetry({ serviceName: 42 } as unknown as TelemetryOptions), {
      message: 'startTelemetry() options.serviceName must be a non-empty string; received 42',
    });
  });

  it('rejects a bad console option', () => {
    assert.throws(() => startTelemetry({ console: 'yes' } as unknown as TelemetryOptions), {
      message: 'startTelemetry() options.console must be a boolean or { write }; received yes',
    });
  });

  it('rejects options that are not an object', () => {
    assert.throws(() => startTelemetry(null as unknown as TelemetryOptions), {
      message: 'startTelemetry() options must be an object; received null',
    });
  });
});
