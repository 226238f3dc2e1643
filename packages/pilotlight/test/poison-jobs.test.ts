import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { defineJob } from '../src/index.ts';
import { ERROR_DETAIL_LIMITS, toErrorDetails } from '../src/util/errors.ts';
import { installOtel } from './support/otel.ts';
import { HOSTILE_VALUES, testPoisonJobs } from './support/poison-jobs.ts';
import { tempStore, testClient, testWorker, waitFor, waitForState } from './support/helpers.ts';

// The real SDK, so that the tracing filter records the exception and sets the span status of
// every poison attempt below (a non-recording span would skip that path).
const otel = installOtel();

// Opened here, not in the suite's before hook: tempStore() closes it after the whole file.
const store = tempStore();
testPoisonJobs('SQLite', async () => store);

describe('toErrorDetails', () => {
  for (const [name, hostile] of Object.entries(HOSTILE_VALUES)) {
    it(`never throws, and stays within its limits, given ${name}`, () => {
      const details = toErrorDetails(hostile.make());
      assert.match(details.message, hostile.message);
      assert.ok(details.type.length > 0 && details.type.length <= ERROR_DETAIL_LIMITS.type);
      assert.ok(details.message.length <= ERROR_DETAIL_LIMITS.message);
      assert.ok((details.stack ?? '').length <= ERROR_DETAIL_LIMITS.stack);
    });
  }

  it('keeps the type, message and stack of an ordinary Error as they are', () => {
    const error = new TypeError('plain');
    assert.deepEqual(toErrorDetails(error), { type: 'TypeError', message: 'plain', stack: error.stack });
    assert.deepEqual(toErrorDetails('text'), { type: 'string', message: 'A non-Error value was thrown: text' });
    assert.deepEqual(toErrorDetails({ code: 42 }), { type: 'object', message: 'A non-Error value was thrown: {"code":42}' });
    assert.deepEqual(toErrorDetails(10n), { type: 'bigint', message: 'A non-Error value was thrown: 10' });
  });

  it('cuts a long text in the middle, keeping both ends and saying how much was cut, without splitting a character', () => {
    const message = `start-${'é😀'.repeat(10_000)}-end`;
    const details = toErrorDetails(new Error(message));
    assert.ok(details.message.length <= ERROR_DETAIL_LIMITS.message);
    assert.match(details.message, /^start-(é😀)+é?… \[\d+ characters cut\] …😀?(é😀)+-end$/u);
    const cut = Number(/\[(\d+) characters cut\]/.exec(details.message)![1]);
    assert.equal(details.message.length - /… \[\d+ characters cut\] …/.exec(details.message)![0].length + cut, message.length);
    assert.doesNotThrow(() => encodeURIComponent(details.message), 'no lone surrogate');
  });
});

describe('the tracing filter, given a handler that throws an Error whose message getter throws', () => {
  it('records the exception and the span status with the placeholder, and the job fails', async () => {
    const store = tempStore();
    const client = testClient(store);
    const job = defineJob('traced.poison', () => {
      throw HOSTILE_VALUES['an Error whose message getter throws']!.make();
    });
    const worker = testWorker({ store, jobs: [job], retry: { attempts: 1 } });
    await worker.start();
    const id = await client.enqueue(job, undefined);
    await waitForState(client, id, 'Failed');
    const [span] = await waitFor(() => {
      const spans = otel.named('process traced.poison');
      return spans.length > 0 ? spans : undefined;
    }, 'the attempt span');
    assert.equal(span!.status.code, SpanStatusCode.ERROR);
    assert.equal(span!.status.message, '<unreadable message: message trap>');
    const exception = span!.events.find((event) => event.name === 'exception');
    assert.ok(exception, 'an exception event');
    assert.equal(exception.attributes?.['exception.message'], '<unreadable message: message trap>');
    assert.equal(exception.attributes?.['exception.type'], 'Error');
  });
});
