/**
 * JobTailSamplingProcessor driven with real SDK spans from a TracerProvider: attempt spans carry the
 * attributes Pilotlight's job tracer gives them; the next processor records what reaches it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { JobTailSamplingProcessor, type TailSamplingOptions } from '@pilotlight/otel';

/** The next processor: records every span it is given, at once. */
class RecordingProcessor implements SpanProcessor {
  readonly started: string[] = [];
  readonly ended: ReadableSpan[] = [];
  flushes = 0;
  shutdowns = 0;
  onStart(span: Span & ReadableSpan): void {
    this.started.push(span.name);
  }
  onEnd(span: ReadableSpan): void {
    this.ended.push(span);
  }
  async forceFlush(): Promise<void> {
    this.flushes++;
  }
  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
  names(): string[] {
    return this.ended.map((span) => span.name);
  }
}

function setup(options: TailSamplingOptions = {}) {
  const next = new RecordingProcessor();
  const tail = new JobTailSamplingProcessor(next, options);
  const provider = new TracerProvider({ spanProcessors: [tail] });
  const tracer = provider.getTracer('tail-sampling-test');
  const attempt = (name = 'process email.send', startTime?: number): Span =>
    tracer.startSpan(name, {
      kind: SpanKind.CONSUMER,
      root: true,
      attributes: { 'messaging.system': 'pilotlight', 'messaging.operation.type': 'process', 'pilotlight.job.type': 'email.send' },
      ...(startTime !== undefined && { startTime }),
    });
  const child = (parent: Span, name: string): Span => tracer.startSpan(name, {}, trace.setSpan(ROOT_CONTEXT, parent));
  const root = (name: string): Span => tracer.startSpan(name, { root: true });
  return { next, tail, provider, attempt, child, root };
}

/** An attempt with a child and a grandchild, ended in order grandchild, child, attempt. */
function family(t: ReturnType<typeof setup>, outcome: 'ok' | 'error', label = '') {
  const attempt = t.attempt(`process job${label}`);
  const child = t.child(attempt, `child${label}`);
  t.child(child, `grandchild${label}`).end();
  child.end();
  if (outcome === 'error') attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  attempt.end();
}

/** ±5 standard deviations of a binomial(n, p). */
function assertRatio(count: number, n: number, p: number, what: string): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(count - n * p) <= 5 * sigma, `${what}: ${count} of ${n}; expected ${n * p} ± ${(5 * sigma).toFixed(0)}`);
}

describe('JobTailSamplingProcessor', () => {
  it('exports a failed attempt whole, after its outcome is known, and drops a quick success at ratio 0', () => {
    const t = setup({ ratio: 0 });
    const attempt = t.attempt();
    const child = t.child(attempt, 'GET https://mail.example');
    t.child(child, 'dns.lookup').end();
    child.end();
    assert.deepEqual(t.next.ended, [], 'held while the attempt runs');
    assert.equal(t.tail.bufferedSpans, 2);
    attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'smtp down' });
    attempt.end();
    assert.deepEqual(t.next.names(), ['dns.lookup', 'GET https://mail.example', 'process email.send']);
    family(t, 'ok');
    assert.equal(t.next.ended.length, 3, 'the success was dropped');
    assert.deepEqual(
      t.next.started,
      ['process email.send', 'GET https://mail.example', 'dns.lookup', 'process job', 'child', 'grandchild'],
      'onStart is passed on at once',
    );
    assert.equal(t.tail.bufferedSpans, 0);
    assert.equal(t.tail.trackedSpans, 0);
  });

  it('keeps successes at the ratio (2,000 attempts with a child each)', () => {
    const t = setup({ ratio: 0.25 });
    const n = 2000;
    for (let i = 0; i < n; i++) family(t, 'ok');
    const attempts = t.next.ended.filter((span) => span.name === 'process job');
    assertRatio(attempts.length, n, 0.25, 'kept attempts');
    // Kept whole: as many children and grandchildren as attempts, each in a kept attempt's trace.
    const keptTraces = new Set(attempts.map((span) => span.spanContext().traceId));
    assert.equal(t.next.ended.length, attempts.length * 3);
    assert.ok(t.next.ended.every((span) => keptTraces.has(span.spanContext().traceId)));
  });

  it('keeps a slow success, drops a quick one', () => {
    const t = setup({ ratio: 0, slowerThanMs: 1000 });
    const slow = t.attempt('process slow', Date.now() - 5000);
    t.child(slow, 'slow child').end();
    slow.end();
    const quick = t.attempt('process quick', Date.now() - 100);
    t.child(quick, 'quick child').end();
    quick.end();
    assert.deepEqual(t.next.names(), ['slow child', 'process slow']);
  });

  it('passes spans outside attempts straight through: a request, a creation, a remote child', () => {
    const t = setup({ ratio: 0 });
    const request = t.root('POST /signup');
    const enqueue = t.root('enqueue email.send');
    enqueue.end();
    assert.deepEqual(t.next.names(), ['enqueue email.send']);
    const attempt = t.attempt();
    // A span whose parent is remote (another process, or a stored creation context) is not under a local attempt.
    const remote = t.provider
      .getTracer('t')
      .startSpan('remote child', {}, trace.setSpanContext(ROOT_CONTEXT, { ...attempt.spanContext(), isRemote: true }));
    remote.end();
    request.end();
    attempt.end();
    assert.deepEqual(t.next.names(), ['enqueue email.send', 'remote child', 'POST /signup']);
  });

  it('late descendants follow their attempt’s decision, and are then forgotten', () => {
    const t = setup({ ratio: 0 });
    const failed = t.attempt('process failed');
    const lateKept = t.child(failed, 'late kept');
    failed.setStatus({ code: SpanStatusCode.ERROR });
    failed.end();
    const dropped = t.attempt('process dropped');
    const lateDropped = t.child(dropped, 'late dropped');
    dropped.end();
    assert.equal(t.tail.trackedSpans, 2, 'the two open descendants');
    // Started under a late descendant, after the decision: same decision.
    t.child(lateKept, 'late grandchild kept').end();
    t.child(lateDropped, 'late grandchild dropped').end();
    lateDropped.end();
    lateKept.end();
    assert.deepEqual(t.next.names(), ['process failed', 'late grandchild kept', 'late kept']);
    assert.equal(t.tail.trackedSpans, 0);
    assert.equal(t.tail.bufferedSpans, 0);
  });

  it('never holds more than maxBufferedSpans: the oldest open attempt is exported undecided, the rest of it passes through', () => {
    const warnings: string[] = [];
    diag.setLogger(
      { warn: (message: string) => warnings.push(message), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} },
      DiagLogLevel.WARN,
    );
    try {
      const t = setup({ ratio: 0, maxBufferedSpans: 5 });
      const oldest = t.attempt('process oldest');
      const younger = t.attempt('process younger');
      let most = 0;
      for (let i = 0; i < 3; i++) t.child(oldest, `oldest child ${i}`).end();
      for (let i = 0; i < 2; i++) t.child(younger, `younger child ${i}`).end();
      assert.equal(t.tail.bufferedSpans, 5);
      assert.deepEqual(t.next.ended, []);
      // One more: the oldest attempt's three held spans are passed on.
      t.child(younger, 'younger child 2').end();
      assert.deepEqual(t.next.names(), ['oldest child 0', 'oldest child 1', 'oldest child 2']);
      assert.equal(t.tail.bufferedSpans, 3);
      t.child(oldest, 'oldest child 3').end();
      assert.equal(t.next.names().at(-1), 'oldest child 3', 'the rest of that attempt passes straight through');
      // The younger attempt alone fills the buffer: it is passed on in turn.
      for (let i = 3; i < 10; i++) {
        t.child(younger, `younger child ${i}`).end();
        most = Math.max(most, t.tail.bufferedSpans);
      }
      assert.ok(most <= 5, `held at most ${most}`);
      oldest.end(); // a quick success at ratio 0, but already passed on
      younger.end();
      assert.equal(t.next.ended.length, 16, 'every span of both attempts');
      assert.equal(t.tail.bufferedSpans, 0);
      assert.equal(t.tail.trackedSpans, 0);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /holds its limit of 5 spans \(maxBufferedSpans\)/);
      // An attempt decided on its outcome with the buffer under half full ends the streak: the next overflow warns again.
      family(t, 'ok');
      assert.equal(warnings.length, 1);
      const third = t.attempt('process third');
      for (let i = 0; i < 6; i++) t.child(third, `third child ${i}`).end();
      third.end();
      assert.equal(warnings.length, 2);
    } finally {
      diag.disable();
    }
  });

  it('under overflow with many attempts interleaved, holds at most maxBufferedSpans and still exports every failure whole', () => {
    const t = setup({ ratio: 0, maxBufferedSpans: 40 });
    let seed = 42;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31; // deterministic order
    type Running = { attempt: Span; children: Span[]; failed: boolean };
    const running: Running[] = [];
    const failedTraces = new Set<string>();
    const spansPerTrace = new Map<string, number>();
    let most = 0;
    for (let step = 0; step < 5000; step++) {
      const choice = random();
      if (choice < 0.2 || running.length === 0) {
        const attempt = t.attempt();
        running.push({ attempt, children: [], failed: random() < 0.3 });
        spansPerTrace.set(attempt.spanContext().traceId, 1);
      } else {
        const job = running[Math.floor(random() * running.length)]!;
        const traceId = job.attempt.spanContext().traceId;
        if (choice < 0.85) {
          t.child(job.children.at(-1) ?? job.attempt, 'work').end();
          spansPerTrace.set(traceId, spansPerTrace.get(traceId)! + 1);
        } else {
          if (job.failed) {
            job.attempt.setStatus({ code: SpanStatusCode.ERROR });
            failedTraces.add(traceId);
          }
          job.attempt.end();
          running.splice(running.indexOf(job), 1);
        }
      }
      most = Math.max(most, t.tail.bufferedSpans);
    }
    for (const job of running) job.attempt.end();
    assert.ok(most <= 40, `held at most ${most}`);
    assert.equal(most, 40, 'the limit was reached');
    const exported = new Map<string, number>();
    for (const span of t.next.ended) exported.set(span.spanContext().traceId, (exported.get(span.spanContext().traceId) ?? 0) + 1);
    assert.ok(failedTraces.size > 50, `${failedTraces.size} failures`);
    for (const traceId of failedTraces)
      assert.equal(exported.get(traceId), spansPerTrace.get(traceId), `failed attempt ${traceId} exported whole`);
    assert.equal(t.tail.bufferedSpans, 0);
    assert.equal(t.tail.trackedSpans, 0);
  });

  it('holds nothing after many attempts: no memory is kept for finished attempts', () => {
    const t = setup({ ratio: 0.5 });
    const open: Span[] = [];
    for (let i = 0; i < 500; i++) {
      const attempt = t.attempt();
      const child = t.child(attempt, 'child');
      if (i % 3 === 0)
        open.push(child); // ends after its attempt
      else child.end();
      if (i % 5 === 0) attempt.setStatus({ code: SpanStatusCode.ERROR });
      attempt.end();
    }
    assert.equal(t.tail.trackedSpans, open.length);
    for (const child of open) child.end();
    assert.equal(t.tail.trackedSpans, 0);
    assert.equal(t.tail.bufferedSpans, 0);
  });

  it('forceFlush() keeps holding running attempts; shutdown() exports their finished spans, then shuts the next processor down', async () => {
    const t = setup({ ratio: 0 });
    const running = t.attempt();
    t.child(running, 'done before shutdown').end();
    await t.tail.forceFlush();
    assert.equal(t.next.flushes, 1);
    assert.deepEqual(t.next.ended, []);
    await t.tail.shutdown();
    assert.deepEqual(t.next.names(), ['done before shutdown']);
    assert.equal(t.next.shutdowns, 1);
    assert.equal(t.tail.trackedSpans, 0);
    running.end(); // after shutdown: passed to the (shut down) next processor, which ignores it
    assert.deepEqual(t.next.names(), ['done before shutdown', 'process email.send']);
  });

  it('rejects bad options, naming the option and the value', () => {
    const next = new RecordingProcessor();
    assert.throws(() => new JobTailSamplingProcessor(next, { ratio: 2 }), {
      name: 'RangeError',
      message: 'JobTailSamplingProcessor options.ratio must be a number from 0 to 1; received 2',
    });
    assert.throws(() => new JobTailSamplingProcessor(next, { slowerThanMs: -1 }), {
      name: 'RangeError',
      message: 'JobTailSamplingProcessor options.slowerThanMs must be a finite number >= 0; received -1',
    });
    assert.throws(() => new JobTailSamplingProcessor(next, { maxBufferedSpans: 0.5 }), {
      name: 'RangeError',
      message: 'JobTailSamplingProcessor options.maxBufferedSpans must be an integer >= 1; received 0.5',
    });
    assert.throws(() => new JobTailSamplingProcessor(undefined as unknown as SpanProcessor), {
      name: 'TypeError',
      message: 'JobTailSamplingProcessor next must be a SpanProcessor (a BatchSpanProcessor...); received undefined',
    });
  });
});
