/**
 * Poison jobs, on any store (each store's test file calls `testPoisonJobs` with its own store):
 * handlers that throw values whose reading throws (an Error whose `message` or `stack` getter
 * throws, a Proxy whose every trap throws, an object whose `toString` and `toJSON` throw) or that
 * are enormous. Each attempt must end in a recorded outcome that counts: with `retry: { attempts: 2 }`
 * the job runs exactly twice and ends Failed with a readable error, and the worker goes on running
 * other jobs. Before the fix, recording such a failure threw; the job stayed Processing and the
 * heartbeat handed it back as "a claim whose reply was lost", its attempt given back: it ran forever.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, createWorker, defineJob, silentLogger, type Client, type Logger, type Store, type Worker } from '../../src/index.ts';
import { waitFor } from './wait.ts';

function trap(what: string): () => never {
  return () => {
    throw new Error(`${what} trap`);
  };
}

/** Every trap of a Proxy, each throwing. */
const THROWING_TRAPS: ProxyHandler<object> = {
  get: trap('get'),
  getPrototypeOf: trap('getPrototypeOf'),
  has: trap('has'),
  ownKeys: trap('ownKeys'),
  getOwnPropertyDescriptor: trap('getOwnPropertyDescriptor'),
  set: trap('set'),
  defineProperty: trap('defineProperty'),
  apply: trap('apply'),
};

function withGetters(error: Error, keys: readonly string[]): Error {
  for (const key of keys) Object.defineProperty(error, key, { get: trap(key), configurable: true });
  return error;
}

/** A thrown value; what its stored message must match. */
interface Hostile {
  readonly make: () => unknown;
  readonly message: RegExp;
}

const HUGE = 4 * 1024 * 1024;

export const HOSTILE_VALUES: Record<string, Hostile> = {
  'an Error whose message getter throws': {
    make: () => withGetters(new Error('hidden'), ['message']),
    message: /^<unreadable message: message trap>$/,
  },
  'an Error whose stack getter throws': {
    make: () => withGetters(new Error('visible'), ['stack']),
    message: /^visible$/,
  },
  'an Error whose message, stack, name and constructor getters all throw': {
    make: () => withGetters(new Error('hidden'), ['message', 'stack', 'name', 'constructor']),
    message: /^<unreadable message: message trap>$/,
  },
  'an Error whose message is an object whose toString and toJSON throw': {
    make: () => {
      const error = new Error('x');
      Object.defineProperty(error, 'message', { value: { toString: trap('toString'), toJSON: trap('toJSON') } });
      return error;
    },
    message: /^<unreadable message: toString trap>$/,
  },
  'a Proxy whose every trap throws': {
    make: () => new Proxy({}, THROWING_TRAPS),
    message: /^A non-Error value was thrown: <unreadable value: .*trap>$/,
  },
  'a Proxy around an Error whose every trap throws': {
    make: () => new Proxy(new Error('inside'), THROWING_TRAPS),
    message: /^A non-Error value was thrown: <unreadable value: .*trap>$/,
  },
  'a revoked Proxy': {
    make: () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    },
    message: /^A non-Error value was thrown: <unreadable value: .*revoked.*>$/,
  },
  'an object whose toJSON, toString and Symbol.toPrimitive throw': {
    make: () => ({ toJSON: trap('toJSON'), toString: trap('toString'), [Symbol.toPrimitive]: trap('toPrimitive') }),
    message: /^A non-Error value was thrown: <unreadable value: toPrimitive trap>$/,
  },
  'an object with a null prototype whose toJSON throws': {
    make: () => Object.assign(Object.create(null) as object, { toJSON: trap('toJSON') }),
    message: /^A non-Error value was thrown: <unreadable value: .*>$/,
  },
  'an Error with a 4 MiB message and a 4 MiB stack': {
    make: () => {
      const error = new Error('m'.repeat(HUGE));
      Object.defineProperty(error, 'stack', { value: 's'.repeat(HUGE) });
      return error;
    },
    message: /^m+… \[\d+ characters cut\] …m+$/,
  },
  'a 4 MiB string': {
    make: () => 'x'.repeat(HUGE),
    message: /^A non-Error value was thrown: x+… \[\d+ characters cut\] …x+$/,
  },
};

/** The limits of `toErrorDetails` (src/util/errors.ts), restated: the test checks the promise, not the constant. */
const MAX_MESSAGE = 8 * 1024;
const MAX_STACK = 16 * 1024;

export function testPoisonJobs(storeName: string, openStore: () => Promise<Store>): void {
  describe(`poison jobs on ${storeName}: whatever a handler throws, each attempt ends in a recorded outcome that counts`, () => {
    let client: Client;
    let worker: Worker;
    const runs = new Map<string, number>();
    const logged: string[] = [];

    before(async () => {
      const store = await openStore();
      // Errors the engine logs are part of the verdict: recording an outcome must not fail.
      const logger: Logger = {
        ...silentLogger,
        warn: (message) => void logged.push(`warn: ${message}`),
        error: (message) => void logged.push(`error: ${message}`),
      };
      client = createClient({ store, logger });
      worker = createWorker({
        store,
        jobs: [poison, ordinary],
        concurrency: 4,
        pollInterval: 20,
        maintenanceInterval: 20,
        heartbeatInterval: 50,
        leaseDuration: 2_000,
        shutdownTimeout: 1_000,
        logger,
      });
      await worker.start();
    });
    after(() => worker.stop());

    const poison = defineJob(
      'poison',
      (name: string) => {
        runs.set(name, (runs.get(name) ?? 0) + 1);
        throw HOSTILE_VALUES[name]!.make();
      },
      { retry: { attempts: 2, backoff: 5 } },
    );
    const ordinary = defineJob('ordinary', (n: number) => n * 2);

    for (const [name, hostile] of Object.entries(HOSTILE_VALUES)) {
      it(`throwing ${name}: Failed after exactly 2 executions, with a readable error`, { timeout: 30_000 }, async () => {
        const id = await client.enqueue(poison, name);
        const job = await waitFor(
          async () => {
            const current = await client.getJob(id);
            return current?.state === 'Failed' ? current : undefined;
          },
          `job ${id} (${name}) to be Failed`,
          15_000,
        ).catch(async (error: Error) => {
          const history = await client.getHistory(id);
          const last = history.at(-1);
          throw new Error(
            `${error.message}: it ran ${runs.get(name) ?? 0} times, has ${history.length} history entries, the last ${last?.name}: ${last?.reason}; the engine logged:\n${logged.slice(0, 4).join('\n')}`,
          );
        });
        assert.equal(runs.get(name), 2, 'ran exactly twice');
        assert.equal(job.attempt, 2);
        const history = await client.getHistory(id);
        assert.deepEqual(
          history.map((state) => state.name),
          ['Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Failed'],
          history.map((state) => `${state.name}: ${state.reason ?? ''}`.slice(0, 200)).join('\n'),
        );
        const failed = history.at(-1)!;
        const retried = history[2]!;
        for (const state of [retried, failed]) {
          const error = state.error!;
          assert.equal(typeof error.type, 'string');
          assert.ok(error.type.length > 0);
          assert.match(error.message, hostile.message);
          assert.ok(error.message.length <= MAX_MESSAGE, `message of ${error.message.length} characters`);
          assert.ok((error.stack ?? '').length <= MAX_STACK, `stack of ${error.stack?.length} characters`);
        }
        assert.match(failed.reason!, /^Failed after 2 attempt\(s\), no retry left: /);
        assert.ok(failed.reason!.length < MAX_MESSAGE + 100, `reason of ${failed.reason!.length} characters`);
        // The worker goes on running other jobs.
        const next = await client.enqueue(ordinary, 21);
        await waitFor(async () => (await client.getJob(next))?.state === 'Succeeded', `ordinary job ${next} to succeed`);
        assert.deepEqual(logged, [], 'the engine logged no failure');
      });
    }
  });
}
