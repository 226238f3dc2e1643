import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createTaskManager, defineTask, type TaskContext, type TaskManagerOptions } from '../../src/tasks/index.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { eventNames, installOtel, parentOf } from '../support/otel.ts';
import { waitFor } from '../support/helpers.ts';

const otel = installOtel();
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

class MetadataScanTask {
  async run(input: { libraryId: string }, context: TaskContext) {
    await trace.getTracer('app').startActiveSpan('db.query movies', async (span) => {
      span.setAttribute('library', input.libraryId);
      await delay(20);
      span.end();
    });
    context.reportProgress(100, 'done');
    return 42;
  }
}

class PersonCleanupTask {
  async run(_: void) {
    await delay(5);
    const person = null as { id: string } | null;
    return person!.id; // the JavaScript NullReferenceException: a TypeError
  }
}

/** Runs until its signal aborts (honouring it), or forever when `ignore` is set. */
const blocker = defineTask('BlockingTask', (ignore: boolean, context) => {
  return new Promise<void>((_, reject) => {
    if (!ignore) context.signal.addEventListener('abort', () => reject(context.signal.reason));
  });
});

function manager(options: Partial<TaskManagerOptions> = {}) {
  return createTaskManager({ concurrency: 4, logger: silentLogger, ...options });
}

/** Waits until `count` spans named `name` have ended. */
function ended(name: string, count = 1) {
  return waitFor(() => (otel.named(name).length >= count ? otel.named(name) : undefined), `${count} span(s) '${name}'`);
}

function ms(span: ReadableSpan): { start: number; end: number } {
  return { start: hrTimeToMilliseconds(span.startTime), end: hrTimeToMilliseconds(span.endTime) };
}

describe("the seed's example spans", () => {
  it('a completed MetadataScanTask: INTERNAL, status OK, the five attributes, events [task.started, task.completed]', async () => {
    const tasks = manager();
    const handle = tasks.start(MetadataScanTask, { libraryId: 'movies' }, { name: 'Metadata library scan' });
    assert.equal(await handle.result, 42);
    const [span] = await ended('BackgroundTask.MetadataScanTask');
    assert.equal(span!.instrumentationScope.name, 'pilotlight.tasks');
    assert.equal(span!.kind, SpanKind.INTERNAL);
    assert.deepEqual(span!.status, { code: SpanStatusCode.OK });
    const duration = span!.attributes['task.duration_ms'];
    assert.equal(typeof duration, 'number');
    assert.deepEqual(span!.attributes, {
      'task.id': handle.id,
      'task.type': 'MetadataScanTask',
      'task.name': 'Metadata library scan',
      'task.status': 'Completed',
      'task.duration_ms': duration,
    });
    assert.match(handle.id, UUID_V7);
    const { start, end } = ms(span!);
    assert.ok(
      (duration as number) >= 19 && Math.abs((duration as number) - (end - start)) < 5,
      `task.duration_ms ${duration} is the span's duration ${end - start}`,
    );
    // The progress report of 100 is a span event too (throttled; see below): the lifecycle events are the seed's.
    assert.deepEqual(eventNames(span!), ['task.started', 'task.progress', 'task.completed']);
    for (const event of span!.events) {
      const at = hrTimeToMilliseconds(event.time);
      assert.ok(at >= start && at <= end, `${event.name} lies within the span`);
    }
    const [query] = otel.named('db.query movies');
    assert.equal(parentOf(query!), span!.spanContext().spanId, "the task's own spans nest under the task span");
  });

  it('a failed PersonCleanupTask: status ERROR with the message, task.status Failed, exception.* attributes, events [task.started, task.failed]', async () => {
    const tasks = manager();
    const handle = tasks.start(PersonCleanupTask, undefined, { name: 'Person metadata cleanup' });
    const error = await handle.result.then(
      () => assert.fail('the task should fail'),
      (thrown: unknown) => thrown as TypeError,
    );
    assert.ok(error instanceof TypeError);
    const [span] = await ended('BackgroundTask.PersonCleanupTask');
    assert.equal(span!.kind, SpanKind.INTERNAL);
    assert.deepEqual(span!.status, { code: SpanStatusCode.ERROR, message: error.message });
    const { ['exception.stacktrace']: stack, ['task.duration_ms']: duration, ...attributes } = span!.attributes;
    assert.deepEqual(attributes, {
      'task.id': handle.id,
      'task.type': 'PersonCleanupTask',
      'task.name': 'Person metadata cleanup',
      'task.status': 'Failed',
      'exception.type': 'TypeError',
      'exception.message': "Cannot read properties of null (reading 'id')",
    });
    assert.equal(typeof duration, 'number');
    assert.match(String(stack), /^TypeError: Cannot read properties of null[\s\S]*at PersonCleanupTask\.run/);
    assert.deepEqual(
      eventNames(span!).filter((name) => name.startsWith('task.')),
      ['task.started', 'task.failed'],
    );
    // The exception is also recorded (recordException), just before the final event.
    assert.deepEqual(eventNames(span!), ['task.started', 'exception', 'task.failed']);
    assert.equal(span!.events[1]!.attributes!['exception.type'], 'TypeError');
    assert.equal(span!.events[1]!.attributes!['exception.stacktrace'], stack);
  });

  it("recordException: false gives exactly the seed's events", async () => {
    const tasks = manager({ tracing: { recordException: false } });
    await tasks.start(PersonCleanupTask, undefined, { name: 'Person metadata cleanup' }).result.catch(() => undefined);
    const [span] = await ended('BackgroundTask.PersonCleanupTask');
    assert.deepEqual(eventNames(span!), ['task.started', 'task.failed']);
    assert.equal(span!.attributes['exception.type'], 'TypeError');
  });

  it('a non-Error rejection: Failed with a clear message, no stack trace attribute', async () => {
    const tasks = manager();
    const odd = defineTask('OddTask', () => Promise.reject({ code: 42 }));
    await assert.rejects(tasks.start(odd, undefined).result, /^PilotlightError: A non-Error value was thrown: \{"code":42\}$/);
    const [span] = await ended('BackgroundTask.OddTask');
    assert.equal(span!.status.message, 'A non-Error value was thrown: {"code":42}');
    assert.equal(span!.attributes['exception.type'], 'object');
    assert.equal(span!.attributes['exception.stacktrace'], undefined);
  });
});

describe('cancelled tasks', () => {
  it('running: events [task.started, task.cancelled], status ERROR "Task was cancelled", ended at once even if the task ignores its signal', async () => {
    const tasks = manager();
    const handle = tasks.start(blocker, true, { name: 'stubborn' });
    await waitFor(() => handle.status === 'Running', 'the task to run');
    await delay(10);
    assert.equal(handle.cancel('user pressed Stop'), true);
    const [span] = otel.named('BackgroundTask.BlockingTask');
    assert.ok(span, 'the span ended with the cancel, though the task still runs');
    assert.deepEqual(eventNames(span), ['task.started', 'task.cancelled']);
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'Task was cancelled' });
    assert.equal(span.attributes['task.status'], 'Cancelled');
    assert.ok((span.attributes['task.duration_ms'] as number) >= 9);
  });

  it('pending: a zero-length span with only task.cancelled and task.duration_ms 0', async () => {
    const tasks = manager({ concurrency: 1 });
    const running = tasks.start(blocker, false);
    const pending = tasks.start(blocker, false, { name: 'queued' });
    await waitFor(() => running.status === 'Running', 'the first task to run');
    pending.cancel();
    const [span] = await ended('BackgroundTask.BlockingTask');
    assert.equal(span!.attributes['task.id'], pending.id);
    assert.deepEqual(eventNames(span!), ['task.cancelled']);
    assert.deepEqual(span!.status, { code: SpanStatusCode.ERROR, message: 'Task was cancelled' });
    assert.equal(span!.attributes['task.status'], 'Cancelled');
    assert.equal(span!.attributes['task.duration_ms'], 0);
    running.cancel();
    await ended('BackgroundTask.BlockingTask', 2);
  });
});

describe('progress events', () => {
  it('are throttled: one per progressEventInterval, the last held-back report recorded at the end', async () => {
    const tasks = manager({ tracing: { progressEventInterval: 50 } });
    const steps = defineTask('StepsTask', async (_: void, context) => {
      context.reportProgress(1, 'first');
      context.reportProgress(2);
      context.reportProgress(3);
      await delay(70);
      context.reportProgress(4, 'after the interval');
      context.reportProgress(5, 'held back until the end');
    });
    const handle = tasks.start(steps, undefined);
    await handle.result;
    assert.deepEqual(tasks.get(handle.id)!.progress?.value, 5, 'the snapshot has every report');
    const [span] = await ended('BackgroundTask.StepsTask');
    assert.deepEqual(eventNames(span!), ['task.started', 'task.progress', 'task.progress', 'task.progress', 'task.completed']);
    assert.deepEqual(
      span!.events.filter((event) => event.name === 'task.progress').map((event) => event.attributes),
      [
        { 'task.progress.value': 1, 'task.progress.message': 'first' },
        { 'task.progress.value': 4, 'task.progress.message': 'after the interval' },
        { 'task.progress.value': 5, 'task.progress.message': 'held back until the end' },
      ],
    );
  });

  it('never flood a span: at most 100, so the SDK (128 events per span) never drops task.started', async () => {
    const tasks = manager({ tracing: { progressEventInterval: 1 } });
    const chatty = defineTask('ChattyTask', async (_: void, context) => {
      for (let i = 0; i < 150; i++) {
        context.reportProgress(i);
        await delay(2);
      }
    });
    await tasks.start(chatty, undefined).result;
    const [span] = await ended('BackgroundTask.ChattyTask');
    assert.equal(span!.events.filter((event) => event.name === 'task.progress').length, 100);
    assert.equal(span!.events[0]!.name, 'task.started');
    assert.equal(span!.events.at(-1)!.name, 'task.completed');
  });

  it('progressEventInterval: null records none', async () => {
    const tasks = manager({ tracing: { progressEventInterval: null } });
    await tasks.start(MetadataScanTask, { libraryId: 'x' }).result;
    const [span] = await ended('BackgroundTask.MetadataScanTask');
    assert.deepEqual(eventNames(span!), ['task.started', 'task.completed']);
  });
});

describe('parenting to the context active at start()', () => {
  it("'child' (default): the task span is a child of the request span, in its trace", async () => {
    const tasks = manager();
    await otel.inSpan('POST /api/libraries/scan', (request) =>
      tasks.start(MetadataScanTask, { libraryId: 'x' }).result.then(() => request),
    );
    const [request] = otel.named('POST /api/libraries/scan');
    const [span] = await ended('BackgroundTask.MetadataScanTask');
    assert.equal(parentOf(span!), request!.spanContext().spanId);
    assert.equal(span!.spanContext().traceId, request!.spanContext().traceId);
    assert.deepEqual(span!.links, []);
  });

  it("'link': a new trace with a link to the request span", async () => {
    const tasks = manager({ tracing: { parenting: 'link' } });
    await otel.inSpan('request', () => tasks.start(MetadataScanTask, { libraryId: 'x' }).result);
    const [request] = otel.named('request');
    const [span] = await ended('BackgroundTask.MetadataScanTask');
    assert.equal(parentOf(span!), undefined);
    assert.notEqual(span!.spanContext().traceId, request!.spanContext().traceId);
    assert.deepEqual(
      span!.links.map((link) => link.context.spanId),
      [request!.spanContext().spanId],
    );
    const [query] = otel.named('db.query movies');
    assert.equal(parentOf(query!), span!.spanContext().spanId, "the task's own spans still nest under it");
  });

  it("'none': a new, unrelated trace", async () => {
    const tasks = manager({ tracing: { parenting: 'none' } });
    await otel.inSpan('request', () => tasks.start(MetadataScanTask, { libraryId: 'x' }).result);
    const [request] = otel.named('request');
    const [span] = await ended('BackgroundTask.MetadataScanTask');
    assert.equal(parentOf(span!), undefined);
    assert.notEqual(span!.spanContext().traceId, request!.spanContext().traceId);
    assert.deepEqual(span!.links, []);
  });

  it('a queued task keeps the context of its own start(), not that of the task whose end freed its slot', async () => {
    const tasks = manager({ concurrency: 1 });
    const first = otel.inSpan('request A', async () => tasks.start(MetadataScanTask, { libraryId: 'a' }).result);
    const second = otel.inSpan('request B', async () => tasks.start(MetadataScanTask, { libraryId: 'b' }).result);
    await Promise.all([first, second]);
    const [a, b] = await ended('BackgroundTask.MetadataScanTask', 2);
    assert.equal(parentOf(a!), otel.named('request A')[0]!.spanContext().spanId);
    assert.equal(parentOf(b!), otel.named('request B')[0]!.spanContext().spanId);
  });
});

describe('tracing options', () => {
  it('spanKind and tracerName', async () => {
    const tasks = manager({ tracing: { spanKind: SpanKind.CONSUMER, tracerName: 'media.background-tasks' } });
    await tasks.start(MetadataScanTask, { libraryId: 'x' }).result;
    const [span] = await ended('BackgroundTask.MetadataScanTask');
    assert.equal(span!.kind, SpanKind.CONSUMER);
    assert.equal(span!.instrumentationScope.name, 'media.background-tasks');
  });

  it('tracerProvider: spans go to that provider, not the global one', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tasks = manager({ tracing: { tracerProvider: provider } });
    await tasks.start(MetadataScanTask, { libraryId: 'x' }).result;
    assert.deepEqual(
      exporter.getFinishedSpans().map((span) => span.name),
      ['BackgroundTask.MetadataScanTask'],
    );
    assert.deepEqual(otel.named('BackgroundTask.MetadataScanTask'), []);
    await provider.shutdown();
  });

  it("enabled: false makes no span; the task's own spans still follow the context of its start(), even when queued", async () => {
    const tasks = manager({ concurrency: 1, tracing: { enabled: false } });
    const first = otel.inSpan('request A', async () => tasks.start(MetadataScanTask, { libraryId: 'a' }).result);
    const second = otel.inSpan('request B', async () => tasks.start(MetadataScanTask, { libraryId: 'b' }).result);
    await Promise.all([first, second]);
    assert.deepEqual(otel.named('BackgroundTask.MetadataScanTask'), []);
    const queries = otel.named('db.query movies');
    assert.deepEqual(
      queries.map((query) => [query.attributes.library, parentOf(query)]),
      [
        ['a', otel.named('request A')[0]!.spanContext().spanId],
        ['b', otel.named('request B')[0]!.spanContext().spanId],
      ],
    );
  });
});
