/**
 * startTelemetry() wiring, in child processes that run real jobs and export to a local OTLP
 * receiver: PILOTLIGHT_TRACES_SAMPLER and PILOTLIGHT_TAIL_SAMPLING, the code options that win over
 * them, and a malformed variable, reported and ignored as the SDK does for OTEL_TRACES_SAMPLER.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTelemetry, type TelemetryOptions } from '@pilotlight/otel';
import { runChild } from '../helpers/child.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

describe('startTelemetry() sampling', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  /** Runs the jobs app with `env` (and code `options`); returns the names of the spans exported, sorted, and stderr. */
  async function run(env: Record<string, string>, options?: TelemetryOptions): Promise<{ names: string[]; stderr: string }> {
    receiver.requests.length = 0;
    const result = await runChild('../sampling/fixtures/jobs-app.ts', {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'sampling-child',
      ...(options && { SAMPLING_OPTIONS: JSON.stringify(options) }),
      ...env,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'done\n');
    const names = receiver
      .spans()
      .map((span) => (span.name.startsWith('process ') ? `${span.name} #${span.attributes['pilotlight.job.attempt']}` : span.name))
      .sort();
    return { names, stderr: result.stderr };
  }

  const EVERYTHING = [
    'enqueue audit.write',
    'enqueue email.send',
    'enqueue flaky.job',
    'flaky work 1',
    'flaky work 2',
    'insert audit',
    'process audit.write #1',
    'process email.send #1',
    'process flaky.job #1',
    'process flaky.job #2',
    'smtp',
    'transition flaky.job',
  ];

  it('rejects bad sampling options before starting anything, naming the option and the value', () => {
    assert.throws(() => startTelemetry({ sampling: { types: { 'email.send': 2 } } }), {
      name: 'RangeError',
      message: 'startTelemetry() options.sampling.types["email.send"] must be a number from 0 to 1; received 2',
    });
    assert.throws(() => startTelemetry({ tailSampling: { maxBufferedSpans: 0 } }), {
      name: 'RangeError',
      message: 'startTelemetry() options.tailSampling.maxBufferedSpans must be an integer >= 1; received 0',
    });
    assert.throws(() => startTelemetry({ tailSampling: true } as unknown as TelemetryOptions), {
      name: 'TypeError',
      message: 'startTelemetry() options.tailSampling must be { ratio, slowerThanMs, maxBufferedSpans } or false; received true',
    });
  });

  it('exports everything without sampling configured (the SDK default)', async () => {
    const { names, stderr } = await run({});
    assert.deepEqual(names, EVERYTHING);
    assert.equal(stderr, '');
  });

  it('PILOTLIGHT_TRACES_SAMPLER: the job sampler replaces the SDK sampler, and says OTEL_TRACES_SAMPLER is ignored', async () => {
    const { names, stderr } = await run({
      PILOTLIGHT_TRACES_SAMPLER: 'ratio=1,type:email.send=0,type:flaky.job=0',
      OTEL_TRACES_SAMPLER: 'always_off',
    });
    assert.deepEqual(names, ['enqueue audit.write', 'flaky work 2', 'insert audit', 'process audit.write #1', 'process flaky.job #2']);
    assert.match(stderr, /OTEL_TRACES_SAMPLER is ignored: PILOTLIGHT_TRACES_SAMPLER configures the sampler/);
  });

  it('a malformed PILOTLIGHT_TRACES_SAMPLER is reported and ignored: the SDK sampler (OTEL_TRACES_SAMPLER) applies', async () => {
    const { names, stderr } = await run({ PILOTLIGHT_TRACES_SAMPLER: 'ratio=1,type:email.send=2', OTEL_TRACES_SAMPLER: 'always_off' });
    assert.deepEqual(names, []);
    assert.match(
      stderr,
      /PILOTLIGHT_TRACES_SAMPLER="ratio=1,type:email\.send=2" is ignored, the SDK's sampler \(OTEL_TRACES_SAMPLER\) applies: entry "type:email\.send=2": the ratio must be a number from 0 to 1\. Grammar: comma-separated entries ratio=<0\.\.1>, type:<job type>=<0\.\.1>/,
    );
  });

  it('options.sampling wins over PILOTLIGHT_TRACES_SAMPLER', async () => {
    const { names } = await run(
      { PILOTLIGHT_TRACES_SAMPLER: 'type:email.send=0' },
      { sampling: { types: { 'audit.write': 0, 'flaky.job': 0 } } },
    );
    assert.deepEqual(names, ['enqueue email.send', 'flaky work 2', 'process email.send #1', 'process flaky.job #2', 'smtp']);
  });

  it('PILOTLIGHT_TAIL_SAMPLING: only the failed attempt is exported with its span; creations and state changes pass through', async () => {
    const { names, stderr } = await run({ PILOTLIGHT_TAIL_SAMPLING: 'ratio=0,slower-than=1m' });
    assert.deepEqual(names, [
      'enqueue audit.write',
      'enqueue email.send',
      'enqueue flaky.job',
      'flaky work 1',
      'process flaky.job #1',
      'transition flaky.job',
    ]);
    assert.equal(stderr, '');
  });

  it('options.tailSampling: false wins over PILOTLIGHT_TAIL_SAMPLING; a malformed PILOTLIGHT_TAIL_SAMPLING is reported and ignored', async () => {
    assert.deepEqual((await run({ PILOTLIGHT_TAIL_SAMPLING: 'ratio=0' }, { tailSampling: false })).names, EVERYTHING);
    const { names, stderr } = await run({ PILOTLIGHT_TAIL_SAMPLING: 'ratio=0,slower-than=10' });
    assert.deepEqual(names, EVERYTHING);
    assert.match(
      stderr,
      /PILOTLIGHT_TAIL_SAMPLING="ratio=0,slower-than=10" is ignored, no tail sampling: entry "slower-than=10": the duration must be a number followed by ms, s or m/,
    );
  });
});
