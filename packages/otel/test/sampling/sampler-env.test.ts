/** The grammar of PILOTLIGHT_TRACES_SAMPLER and PILOTLIGHT_TAIL_SAMPLING: good values, and bad ones with their messages. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { parseTailSampling, parseTracesSampler, tailSamplingFromEnv, tracesSamplerFromEnv } from '../../src/sampling/env.ts';

describe('PILOTLIGHT_TRACES_SAMPLER', () => {
  it('reads every kind of entry', () => {
    assert.deepEqual(
      parseTracesSampler(
        'ratio=0.1,type:email.send=0.01,queue:bulk=0.5,recurring:nightly-report=1,later-attempts=sample,namespace=hangfire',
      ),
      {
        ratio: 0.1,
        types: { 'email.send': 0.01 },
        queues: { bulk: 0.5 },
        recurring: { 'nightly-report': 1 },
        laterAttempts: 'sample',
        namespace: 'hangfire',
      },
    );
  });

  it('allows spaces around entries, keys and values, a trailing comma, and a colon in a name', () => {
    assert.deepEqual(parseTracesSampler(' ratio = 0.5 , type: TenantService.provision = 0 , type:billing:v2=1,'), {
      ratio: 0.5,
      types: { 'TenantService.provision': 0, 'billing:v2': 1 },
      queues: {},
      recurring: {},
    });
    assert.deepEqual(parseTracesSampler('later-attempts=keep'), { types: {}, queues: {}, recurring: {}, laterAttempts: 'keep' });
  });

  const bad: Array<[string, string]> = [
    ['ratio=2', 'entry "ratio=2": the ratio must be a number from 0 to 1'],
    ['ratio=', 'entry "ratio=": the ratio must be a number from 0 to 1'],
    ['ratio=ten%', 'entry "ratio=ten%": the ratio must be a number from 0 to 1'],
    ['type:email.send', 'entry "type:email.send" is not key=value'],
    ['=0.5', 'entry "=0.5" is not key=value'],
    ['kind:email.send=1', 'entry "kind:email.send=1": unknown rule kind (type:, queue:, recurring:)'],
    ['type:=1', 'entry "type:=1": the name after type: is empty'],
    ['later-attempts=always', 'entry "later-attempts=always": later-attempts is keep or sample'],
    ['namespace=Hangfire', 'entry "namespace=Hangfire": the namespace must be a lowercase dotted name such as hangfire'],
    ['ratio=0.1, ratio=0.2', 'entry "ratio=0.2": ratio is given twice'],
    ['type:email.send=0.1,type: email.send=0.2', 'entry "type: email.send=0.2": type:email.send is given twice'],
    ['sampler=always_on', 'entry "sampler=always_on": unknown key sampler'],
    [' , ', 'no entry'],
  ];
  for (const [value, message] of bad) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assert.throws(() => parseTracesSampler(value), { message });
    });
  }
});

describe('PILOTLIGHT_TAIL_SAMPLING', () => {
  it('reads on, off and every entry, with durations in ms, s or m', () => {
    assert.deepEqual(parseTailSampling('on'), {});
    assert.equal(parseTailSampling('off'), undefined);
    assert.deepEqual(parseTailSampling('ratio=0.2,slower-than=2.5s,max-spans=500'), {
      ratio: 0.2,
      slowerThanMs: 2500,
      maxBufferedSpans: 500,
    });
    assert.deepEqual(parseTailSampling('slower-than=250ms'), { slowerThanMs: 250 });
    assert.deepEqual(parseTailSampling('slower-than = 1m'), { slowerThanMs: 60_000 });
  });

  const bad: Array<[string, string]> = [
    ['slower-than=10', 'entry "slower-than=10": the duration must be a number followed by ms, s or m'],
    ['slower-than=-1s', 'entry "slower-than=-1s": the duration must be a number followed by ms, s or m'],
    ['max-spans=0', 'entry "max-spans=0": the count must be an integer >= 1'],
    ['max-spans=1.5', 'entry "max-spans=1.5": the count must be an integer >= 1'],
    ['ratio=1.1', 'entry "ratio=1.1": the ratio must be a number from 0 to 1'],
    ['true', 'entry "true" is not key=value'],
    ['keep=errors', 'entry "keep=errors": unknown key keep'],
  ];
  for (const [value, message] of bad) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assert.throws(() => parseTailSampling(value), { message });
    });
  }
});

describe('reading the variables', () => {
  const errors: string[] = [];
  diag.setLogger(
    { error: (message: string) => errors.push(message), warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.ERROR,
  );
  afterEach(() => {
    delete process.env.PILOTLIGHT_TRACES_SAMPLER;
    delete process.env.PILOTLIGHT_TAIL_SAMPLING;
    errors.length = 0;
  });

  it('unset or blank: nothing', () => {
    assert.equal(tracesSamplerFromEnv(), undefined);
    process.env.PILOTLIGHT_TRACES_SAMPLER = '  ';
    process.env.PILOTLIGHT_TAIL_SAMPLING = '';
    assert.equal(tracesSamplerFromEnv(), undefined);
    assert.equal(tailSamplingFromEnv(), undefined);
    assert.deepEqual(errors, []);
  });

  it('a good value: its options', () => {
    process.env.PILOTLIGHT_TRACES_SAMPLER = 'ratio=0.25';
    process.env.PILOTLIGHT_TAIL_SAMPLING = 'on';
    assert.deepEqual(tracesSamplerFromEnv(), { ratio: 0.25, types: {}, queues: {}, recurring: {} });
    assert.deepEqual(tailSamplingFromEnv(), {});
    assert.deepEqual(errors, []);
  });

  it('a malformed value: diag.error naming the variable, the entry and the grammar, and nothing', () => {
    process.env.PILOTLIGHT_TRACES_SAMPLER = 'ratio=0.1,queue:bulk=x';
    process.env.PILOTLIGHT_TAIL_SAMPLING = 'max-spans=lots';
    assert.equal(tracesSamplerFromEnv(), undefined);
    assert.equal(tailSamplingFromEnv(), undefined);
    assert.deepEqual(errors, [
      '@pilotlight/otel: PILOTLIGHT_TRACES_SAMPLER="ratio=0.1,queue:bulk=x" is ignored, the SDK\'s sampler (OTEL_TRACES_SAMPLER) applies: ' +
        'entry "queue:bulk=x": the ratio must be a number from 0 to 1. Grammar: comma-separated entries ratio=<0..1>, type:<job type>=<0..1>, ' +
        'queue:<queue>=<0..1>, recurring:<recurring id>=<0..1>, later-attempts=keep|sample, namespace=<attribute namespace>; ' +
        'e.g. ratio=0.1,type:email.send=0.01,later-attempts=keep',
      '@pilotlight/otel: PILOTLIGHT_TAIL_SAMPLING="max-spans=lots" is ignored, no tail sampling: entry "max-spans=lots": the count must be an integer >= 1. ' +
        'Grammar: on (every default), or comma-separated entries ratio=<0..1>, slower-than=<number>ms|s|m, max-spans=<integer >= 1>; ' +
        'e.g. ratio=0.1,slower-than=10s,max-spans=10000',
    ]);
  });
});
