import { SpanKind, trace } from '@opentelemetry/api';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import {
  createTaskManager,
  defineTask,
  type TaskContext,
  type TaskHandle,
  type TaskManager,
  type TaskManagerOptions,
} from '../../src/tasks/index.ts';
import { silentLogger } from '../../src/util/logger.ts';

/** Asserts that `create` throws a ValidationError whose message matches. */
function rejects(create: () => unknown, message: RegExp): void {
  assert.throws(create, (error: unknown) => error instanceof ValidationError && message.test(error.message), `expected ${message}`);
}

const options = (extra: Partial<Record<keyof TaskManagerOptions, unknown>>) =>
  ({ concurrency: 2, logger: silentLogger, ...extra }) as TaskManagerOptions;

class MetadataScanTask {
  async run(input: { libraryId: string }, _context: TaskContext) {
    return input.libraryId.length;
  }
}

/** Compile-time checks (tsc): each `@ts-expect-error` line must fail to compile. */
function typeChecks(tasks: TaskManager): void {
  const scan: TaskHandle<number> = tasks.start(MetadataScanTask, { libraryId: 'movies' }, { name: 'Metadata library scan' });
  const sum: TaskHandle<number> = tasks.start(
    defineTask('Sum', (input: number[]) => input.reduce((a, b) => a + b, 0)),
    [1, 2],
  );
  void [scan, sum];
  // @ts-expect-error wrong input type
  tasks.start(MetadataScanTask, { libraryId: 42 });
  // @ts-expect-error unknown option
  tasks.start(MetadataScanTask, { libraryId: 'x' }, { title: 'x' });
  // @ts-expect-error not a task
  tasks.start(class NoRun {}, undefined);
}
void typeChecks;

describe('bad options are rejected with a ValidationError naming the option and the value', () => {
  it('createTaskManager()', () => {
    const cases: [Partial<Record<keyof TaskManagerOptions, unknown>>, RegExp][] = [
      [{ concurrency: 0 }, /^createTaskManager\(\) options\.concurrency must be an integer between 1 and 10000; received 0$/],
      [{ concurrency: undefined }, /options\.concurrency must be an integer between 1 and 10000; received undefined/],
      [{ concurrency: 2.5 }, /options\.concurrency must be an integer between 1 and 10000; received 2\.5/],
      [
        { concurrencyPerType: { EncodingTask: 0 } },
        /options\.concurrencyPerType\.EncodingTask must be an integer between 1 and 10000; received 0/,
      ],
      [{ concurrencyPerType: [1] }, /options\.concurrencyPerType must be an object of type names to limits; received an array/],
      [{ keepFinished: { count: -1 } }, /options\.keepFinished\.count must be an integer >= 0; received -1/],
      [{ keepFinished: { age: '1h' } }, /options\.keepFinished\.age must be an integer >= 0; received "1h"/],
      [{ keepFinished: 5 }, /options\.keepFinished must be an object; received 5/],
      [{ activate: 'container' }, /options\.activate must be a function; received "container"/],
      [{ logger: 'console' }, /options\.logger must be a Logger \(debug, info, warn, error\); received "console"/],
      [{ tracing: true }, /options\.tracing must be an object; received true/],
      [{ tracing: { enabled: 'no' } }, /options\.tracing\.enabled must be a boolean; received "no"/],
      [{ tracing: { parenting: 'sibling' } }, /options\.tracing\.parenting must be one of child, link, none; received "sibling"/],
      [
        { tracing: { spanKind: 'server' } },
        /options\.tracing\.spanKind must be a SpanKind \(SpanKind\.INTERNAL, SpanKind\.SERVER, SpanKind\.CLIENT, SpanKind\.PRODUCER, SpanKind\.CONSUMER\); received "server"/,
      ],
      [{ tracing: { spanKind: 9 } }, /options\.tracing\.spanKind must be a SpanKind .*; received 9/],
      [{ tracing: { tracerName: '' } }, /options\.tracing\.tracerName must be a non-empty string of at most 200 characters; received ""/],
      [{ tracing: { tracerProvider: {} } }, /options\.tracing\.tracerProvider must be a TracerProvider; received an object/],
      [{ tracing: { recordException: 1 } }, /options\.tracing\.recordException must be a boolean; received 1/],
      [{ tracing: { progressEventInterval: 0 } }, /options\.tracing\.progressEventInterval must be an integer >= 1; received 0/],
      [{ metrics: true }, /options\.metrics must be an object such as \{ enabled: false \}; received true/],
      [{ metrics: null }, /options\.metrics must be an object such as \{ enabled: false \}; received null/],
      [{ metrics: { enabled: 'no' } }, /options\.metrics\.enabled must be a boolean; received "no"/],
      [
        { metrics: { meterProvider: { getTracer: () => undefined } } },
        /options\.metrics\.meterProvider must be a MeterProvider \(with getMeter\(\)\); received an object/,
      ],
    ];
    for (const [extra, message] of cases) rejects(() => createTaskManager(options(extra)), message);
    rejects(() => createTaskManager(undefined as never), /^createTaskManager\(\) options must be an object; received undefined$/);
    assert.ok(createTaskManager(options({ tracing: { spanKind: SpanKind.SERVER, progressEventInterval: null } })));
    assert.ok(createTaskManager(options({ metrics: { enabled: false } })));
  });

  it('start(), defineTask(), list(), subscribe()', () => {
    const tasks = createTaskManager(options({}));
    class NoRun {}
    rejects(
      () => tasks.start({} as never, undefined),
      /^start\(\) taskType must be a class with a run\(input, context\) method or a defineTask\(\) definition; received an object$/,
    );
    rejects(
      () => tasks.start(NoRun as never, undefined),
      /start\(\) taskType must be a class with a run\(input, context\) method .*; received a function/,
    );
    rejects(
      () =>
        tasks.start(
          defineTask('Quick', () => 1),
          undefined,
          { name: '' },
        ),
      /^start\(\) options\.name must be a non-empty string of at most 200 characters; received ""$/,
    );
    rejects(
      () =>
        tasks.start(
          defineTask('Quick', () => 1),
          undefined,
          'name' as never,
        ),
      /^start\(\) options must be an object; received "name"$/,
    );
    rejects(() => defineTask('', () => 1), /^defineTask\(\) type must be a non-empty string of at most 200 characters; received ""$/);
    rejects(() => defineTask('Quick', 'run' as never), /^defineTask\('Quick'\) run must be a function; received "run"$/);
    rejects(
      () => tasks.list({ type: 42 as never }),
      /^list\(\) query\.type must be a class with a run\(input, context\) method .*; received 42$/,
    );
    rejects(() => tasks.subscribe(null as never), /^subscribe\(\) listener must be a function; received null$/);
  });
});

describe('without an OpenTelemetry SDK', () => {
  it('tracing is on, costs nothing visible, and tasks run', async () => {
    assert.equal(trace.getTracer('probe').startSpan('probe').isRecording(), false, 'no SDK in this process');
    const tasks = createTaskManager(options({}));
    const seen: boolean[] = [];
    const probe = defineTask('Probe', () => void seen.push(trace.getActiveSpan()?.isRecording() ?? false));
    await tasks.start(probe, undefined).result;
    assert.deepEqual(seen, [false]);
  });
});
