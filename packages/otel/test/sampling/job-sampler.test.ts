/**
 * The job sampler asked directly, with the attributes Pilotlight's job spans start with and random
 * trace ids from the SDK's id generator: ratios within binomial bounds, the rules' precedence,
 * later attempts, trace-id determinism, and its parent-based form.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Attributes, type Context } from '@opentelemetry/api';
import { ParentBasedSampler, RandomIdGenerator, SamplingDecision, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';
import { createJobSampler, type JobSamplerOptions } from '@pilotlight/otel';

const ids = new RandomIdGenerator();
const N = 10_000;

/** The attributes the core gives a job span at its start (see packages/pilotlight/src/telemetry/tracing-filter.ts). */
function job(type: string, extra: { queue?: string; recurringId?: string; attempt?: number; namespace?: string } = {}): Attributes {
  const ns = extra.namespace ?? 'pilotlight';
  return {
    'messaging.system': 'pilotlight',
    'messaging.operation.type': extra.attempt === undefined ? 'send' : 'process',
    'messaging.destination.name': extra.queue ?? 'default',
    [`${ns}.job.type`]: type,
    ...(extra.recurringId !== undefined && { [`${ns}.job.recurring_id`]: extra.recurringId }),
    ...(extra.attempt !== undefined && { [`${ns}.job.attempt`]: extra.attempt }),
  };
}

function kept(sampler: Sampler, attributes: Attributes, traceId = ids.generateTraceId(), parent: Context = ROOT_CONTEXT): boolean {
  const { decision } = sampler.shouldSample(parent, traceId, 'span', SpanKind.PRODUCER, attributes, []);
  assert.notEqual(decision, SamplingDecision.RECORD, 'never record-only');
  return decision === SamplingDecision.RECORD_AND_SAMPLED;
}

/** How many of N fresh traces are kept. */
function keptOf(sampler: Sampler, attributes: Attributes): number {
  let count = 0;
  for (let i = 0; i < N; i++) if (kept(sampler, attributes)) count++;
  return count;
}

/** ±5 standard deviations of a binomial(N, p): a correct sampler fails this about once in 3.5 million runs. */
function assertRatio(count: number, p: number, what: string): void {
  const sigma = Math.sqrt(N * p * (1 - p));
  assert.ok(Math.abs(count - N * p) <= 5 * sigma, `${what}: ${count} of ${N} kept; expected ${N * p} ± ${(5 * sigma).toFixed(0)}`);
}

function parentContext(sampled: boolean, isRemote: boolean): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote,
  });
}

describe('createJobSampler()', () => {
  it('keeps each job type, queue and recurring job at its ratio, and every other span at ratio (10,000 traces each)', () => {
    const sampler = createJobSampler({
      ratio: 0.2,
      types: { 'email.send': 0.01, 'report.build': 0.5 },
      queues: { bulk: 0.1 },
      recurring: { 'nightly-report': 0.9 },
    });
    assertRatio(keptOf(sampler, job('email.send')), 0.01, 'type email.send');
    assertRatio(keptOf(sampler, job('report.build')), 0.5, 'type report.build');
    assertRatio(keptOf(sampler, job('image.resize', { queue: 'bulk' })), 0.1, 'queue bulk');
    assertRatio(keptOf(sampler, job('report.build', { recurringId: 'nightly-report' })), 0.9, 'recurring nightly-report');
    assertRatio(keptOf(sampler, job('image.resize')), 0.2, 'a job no rule matches');
    assertRatio(keptOf(sampler, { 'http.request.method': 'POST' }), 0.2, 'an HTTP request (not a job span)');
    assertRatio(keptOf(sampler, job('email.send', { attempt: 1 })), 0.01, 'a first attempt of email.send');
  });

  it('keeps every trace by default', () => {
    const sampler = createJobSampler();
    assert.equal(keptOf(sampler, job('email.send')), N);
    assert.equal(keptOf(sampler, {}), N);
  });

  it('applies the most specific rule: recurring id, then type, then queue, then ratio', () => {
    const sampler = createJobSampler({
      ratio: 0,
      recurring: { 'nightly-report': 1 },
      types: { 'report.build': 0, 'email.send': 1 },
      queues: { bulk: 0, fast: 1 },
    });
    for (let i = 0; i < 100; i++) {
      assert.equal(
        kept(sampler, job('report.build', { recurringId: 'nightly-report', queue: 'bulk' })),
        true,
        'recurring beats type and queue',
      );
      assert.equal(kept(sampler, job('report.build', { recurringId: 'weekly-report' })), false, 'another recurring id: the type rule');
      assert.equal(kept(sampler, job('email.send', { queue: 'bulk' })), true, 'type beats queue');
      assert.equal(kept(sampler, job('image.resize', { queue: 'fast' })), true, 'queue beats ratio');
      assert.equal(kept(sampler, job('image.resize')), false, 'no rule: ratio');
    }
  });

  it("keeps every attempt after the first with laterAttempts 'keep' (the default), and samples them with 'sample'", () => {
    const keep = createJobSampler({ ratio: 0, types: { 'email.send': 0 } });
    const sample = createJobSampler({ ratio: 0, types: { 'email.send': 0 }, laterAttempts: 'sample' });
    for (let i = 0; i < 100; i++) {
      assert.equal(kept(keep, job('email.send', { attempt: 1 })), false);
      assert.equal(kept(keep, job('email.send', { attempt: 2 })), true);
      assert.equal(kept(keep, job('email.send', { attempt: 7 })), true);
      assert.equal(kept(sample, job('email.send', { attempt: 2 })), false);
    }
  });

  it('decides on the trace id as TraceIdRatioBased does: one trace, one decision, whichever rule gives that ratio', () => {
    const sampler = createJobSampler({ ratio: 0.3, types: { 'email.send': 0.3 }, queues: { bulk: 0.3 } });
    const reference = new TraceIdRatioBasedSampler(0.3);
    let keptTraces = 0;
    for (let i = 0; i < 1000; i++) {
      const traceId = ids.generateTraceId();
      const expected = kept(reference, {}, traceId);
      if (expected) keptTraces++;
      for (const attributes of [job('email.send'), job('image.resize', { queue: 'bulk' }), job('image.resize'), {}]) {
        assert.equal(kept(sampler, attributes, traceId), expected, `trace ${traceId}`);
      }
    }
    assert.ok(keptTraces > 0 && keptTraces < 1000, 'both decisions occurred');
  });

  it('reads the attributes under another namespace (the tracing option attributeNamespace)', () => {
    const sampler = createJobSampler({ namespace: 'hangfire', types: { 'email.send': 0 }, recurring: { nightly: 1 } });
    assert.equal(kept(sampler, job('email.send', { namespace: 'hangfire' })), false);
    assert.equal(kept(sampler, job('email.send', { namespace: 'hangfire', recurringId: 'nightly' })), true);
    assert.equal(kept(sampler, job('email.send', { namespace: 'hangfire', attempt: 2 })), true, 'hangfire.job.attempt');
    assert.equal(kept(sampler, job('email.send')), true, 'pilotlight.job.type is not read: no rule matches');
  });

  it('ignores a rule named like an inherited property', () => {
    const sampler = createJobSampler({ ratio: 1, types: { 'email.send': 0 } });
    assert.equal(kept(sampler, job('constructor')), true);
    assert.equal(kept(sampler, job('__proto__')), true);
  });

  it('describes itself', () => {
    const sampler = createJobSampler({ ratio: 0.1, types: { 'email.send': 0.01 }, queues: { bulk: 0.5 }, recurring: { nightly: 1 } });
    assert.equal(String(sampler), 'JobSampler{ratio=0.1, recurring:nightly=1, type:email.send=0.01, queue:bulk=0.5, laterAttempts=keep}');
    assert.match(String(sampler.parentBased()), /^ParentBased\{root=JobSampler\{ratio=0\.1, .*remoteParentNotSampled=JobLaterAttemptsOnly/);
  });

  it('rejects bad options, naming the option and the value', () => {
    const rejects = (options: unknown, error: { name: string; message: string }) =>
      assert.throws(() => createJobSampler(options as JobSamplerOptions), error);
    rejects({ ratio: 1.5 }, { name: 'RangeError', message: 'createJobSampler() options.ratio must be a number from 0 to 1; received 1.5' });
    rejects({ ratio: NaN }, { name: 'RangeError', message: 'createJobSampler() options.ratio must be a number from 0 to 1; received NaN' });
    rejects(
      { ratio: '0.1' },
      { name: 'TypeError', message: 'createJobSampler() options.ratio must be a number from 0 to 1; received "0.1"' },
    );
    rejects(
      { types: { 'email.send': -0.1 } },
      { name: 'RangeError', message: 'createJobSampler() options.types["email.send"] must be a number from 0 to 1; received -0.1' },
    );
    rejects({ queues: ['bulk'] }, { name: 'TypeError', message: 'createJobSampler() options.queues must be an object; received an array' });
    rejects(
      { laterAttempts: 'always' },
      { name: 'RangeError', message: "createJobSampler() options.laterAttempts must be one of 'keep', 'sample'; received \"always\"" },
    );
    rejects(
      { namespace: 'Hangfire' },
      {
        name: 'RangeError',
        message:
          "createJobSampler() options.namespace must be a lowercase dotted name such as 'pilotlight' or 'hangfire' (the tracing option attributeNamespace); received \"Hangfire\"",
      },
    );
    rejects(null, { name: 'TypeError', message: 'createJobSampler() options must be an object; received null' });
  });
});

describe('jobSampler.parentBased()', () => {
  const jobSampler = createJobSampler({ ratio: 0, types: { 'email.send': 0 } });
  const sampler = jobSampler.parentBased();

  it('decides a root with the job sampler, and follows a sampled parent', () => {
    assert.equal(kept(sampler, job('email.send')), false);
    assert.equal(kept(sampler, job('email.send'), undefined, parentContext(true, true)), true, 'remote sampled parent');
    assert.equal(kept(sampler, { 'db.system.name': 'postgresql' }, undefined, parentContext(true, false)), true, 'local sampled parent');
  });

  it('under an unsampled parent, keeps attempts after the first only', () => {
    for (const isRemote of [true, false]) {
      const parent = parentContext(false, isRemote);
      assert.equal(kept(sampler, job('email.send', { attempt: 2 }), undefined, parent), true, `later attempt (remote ${isRemote})`);
      assert.equal(kept(sampler, job('report.build', { attempt: 3 }), undefined, parent), true);
      assert.equal(kept(sampler, job('email.send', { attempt: 1 }), undefined, parent), false, 'first attempt');
      assert.equal(kept(sampler, job('email.send'), undefined, parent), false, 'a creation');
      assert.equal(kept(sampler, { 'db.system.name': 'postgresql' }, undefined, parent), false, 'any other span');
    }
  });

  it("with laterAttempts 'sample', is the SDK's plain ParentBased: nothing under an unsampled parent", () => {
    const sampling = createJobSampler({ laterAttempts: 'sample' }).parentBased();
    assert.equal(kept(sampling, job('email.send', { attempt: 2 }), undefined, parentContext(false, true)), false);
    assert.equal(kept(sampling, job('email.send', { attempt: 2 })), true, 'a root: ratio 1');
  });

  it('is what new ParentBasedSampler({ root: jobSampler }) does for roots and sampled parents', () => {
    const plain = new ParentBasedSampler({ root: createJobSampler({ ratio: 0.5, types: { 'email.send': 0.1 } }) });
    const ours = createJobSampler({ ratio: 0.5, types: { 'email.send': 0.1 } }).parentBased();
    for (let i = 0; i < 1000; i++) {
      const traceId = ids.generateTraceId();
      for (const attributes of [job('email.send'), job('image.resize'), {}]) {
        assert.equal(kept(ours, attributes, traceId), kept(plain, attributes, traceId));
      }
    }
    assert.equal(
      kept(plain, job('email.send', { attempt: 2 }), undefined, parentContext(false, true)),
      false,
      'the plain form drops later attempts under an unsampled parent',
    );
  });
});
