/**
 * The argument rules as a table, run on every store (SQLite here, PostgreSQL in
 * packages/postgres/test/argument-rules.test.ts): each case is either round-tripped exactly (the
 * handler run by a real worker receives a value `deepStrictEqual` to what was enqueued) or refused
 * with a `ValidationError` naming its path and its type. None is changed on the way.
 */
import assert from 'node:assert/strict';
import {
  createClient,
  createWorker,
  defineJob,
  silentLogger,
  ValidationError,
  type Client,
  type JobContext,
  type Store,
} from '../../src/index.ts';
import { waitFor } from './wait.ts';

export interface ArgumentCase {
  readonly name: string;
  /** A function job's argument, or (`classArgs`) a class job's argument list. Built fresh for each use. */
  readonly arg?: () => unknown;
  readonly classArgs?: () => unknown[];
  /** Absent: the value must arrive unchanged. Present: the message of the ValidationError. */
  readonly refused?: RegExp;
}

class Point {
  x = 1;
  y = 2;
}

const deep = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

export const ARGUMENT_CASES: readonly ArgumentCase[] = [
  // Plain JSON arrives as it was.
  { name: 'a string', arg: () => 'hello' },
  { name: 'an empty string', arg: () => '' },
  { name: 'unicode, emoji, a NUL and a lone surrogate inside a string', arg: () => 'é 😀 \u0000 \ud800 end' },
  { name: 'keys with NUL, quotes and "__proto__"', arg: () => JSON.parse('{"a\\u0000b": 1, "\\"q\\"": 2, "__proto__": 3}') },
  { name: 'integers, floats, extremes', arg: () => [0, 1, -1, 1.5, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, -Number.MAX_VALUE] },
  { name: 'booleans and null', arg: () => ({ t: true, f: false, n: null }) },
  { name: 'nested objects and arrays', arg: () => ({ a: [{ b: [[], {}, [1, [2, [3]]]] }], c: { d: { e: 'f' } } }) },
  { name: 'a void job given undefined (no argument)', arg: () => undefined },
  { name: 'null as the argument', arg: () => null },
  {
    name: 'a value referenced twice (not circular)',
    arg: () => {
      const shared = { x: 1 };
      return { a: shared, b: [shared] };
    },
  },
  { name: 'a frozen object', arg: () => Object.freeze({ a: Object.freeze([1, 2]) }) },
  { name: '100 levels of nesting (the limit)', arg: () => deep(99) },
  { name: 'class job arguments', classArgs: () => ['tenant', 3, { plan: 'pro' }, null] },
  { name: 'class job without arguments', classArgs: () => [] },
  // What JSON would change is refused, naming the path, the type and what to pass.
  { name: 'a Date', arg: () => ({ when: new Date(0) }), refused: /args\[0\]\.when is a Date: pass date\.toISOString\(\)/ },
  { name: 'an invalid Date', arg: () => [new Date('x')], refused: /args\[0\]\[0\] is a Date \(an invalid one\)/ },
  { name: 'a sparse array', arg: () => [1, , 3], refused: /args\[0\] has a hole at index 1 \(a sparse array/ },
  { name: 'undefined property', arg: () => ({ x: undefined }), refused: /args\[0\]\.x is undefined: omit the property or pass null/ },
  { name: 'undefined in an array', arg: () => [1, undefined], refused: /args\[0\]\[1\] is undefined \(in an array.*\): pass null/ },
  { name: 'undefined class argument', classArgs: () => ['a', undefined], refused: /args\[1\] is undefined .*pass null/ },
  { name: 'a symbol key', arg: () => ({ [Symbol('k')]: 1 }), refused: /args\[0\] has a symbol key Symbol\(k\)/ },
  {
    name: 'a non-enumerable property',
    arg: () => Object.defineProperty({}, 'hidden', { value: 1, enumerable: false }),
    refused: /args\[0\]\.hidden is a non-enumerable property/,
  },
  {
    name: 'a getter',
    arg: () => ({
      get total() {
        return 1;
      },
    }),
    refused: /args\[0\]\.total is a getter/,
  },
  { name: 'a Map', arg: () => ({ m: new Map([[1, 2]]) }), refused: /args\[0\]\.m is a Map: pass Object\.fromEntries/ },
  { name: 'a Set', arg: () => new Set([1]), refused: /args\[0\] is a Set: pass \[\.\.\.set\]/ },
  { name: 'a BigInt', arg: () => ({ amount: 10n }), refused: /args\[0\]\.amount is a BigInt: pass it as a string/ },
  { name: 'a Buffer', arg: () => ({ file: Buffer.from('hi') }), refused: /args\[0\]\.file is a Buffer: pass buffer\.toString\('base64'\)/ },
  { name: 'a Uint8Array', arg: () => new Uint8Array([1]), refused: /args\[0\] is a Uint8Array: pass Buffer\.from/ },
  { name: 'a Float64Array', arg: () => [new Float64Array(1)], refused: /args\[0\]\[0\] is a Float64Array/ },
  { name: 'a URL', arg: () => ({ u: new URL('https://example.com/') }), refused: /args\[0\]\.u is a URL: pass url\.href/ },
  { name: 'a RegExp', arg: () => /x/g, refused: /args\[0\] is a RegExp: pass its source and flags/ },
  { name: 'an Error', arg: () => ({ cause: new TypeError('bad') }), refused: /args\[0\]\.cause is a TypeError: pass its message/ },
  { name: 'a class instance', arg: () => new Point(), refused: /args\[0\] is a Point instance: pass a plain object/ },
  {
    name: 'an own toJSON()',
    arg: () => ({ secret: 's', toJSON: () => 'public' }),
    refused: /args\[0\] has a toJSON\(\) method, which JSON would call in its place/,
  },
  { name: 'a boxed string', arg: () => ({ s: new String('x') }), refused: /args\[0\]\.s is a String object: pass the primitive/ },
  { name: 'NaN', arg: () => [1, Number.NaN], refused: /args\[0\]\[1\] is NaN: JSON has no such number/ },
  { name: 'Infinity', arg: () => ({ n: -Infinity }), refused: /args\[0\]\.n is -Infinity/ },
  { name: 'a function', arg: () => ({ callback: () => 1 }), refused: /args\[0\]\.callback is a function/ },
  { name: 'a symbol value', arg: () => ({ s: Symbol('x') }), refused: /args\[0\]\.s is a symbol/ },
  {
    name: 'a circular reference',
    arg: () => {
      const cyclic: Record<string, unknown> = { list: [] };
      (cyclic.list as unknown[]).push(cyclic);
      return cyclic;
    },
    refused: /args\[0\]\.list\[0\] is a circular reference/,
  },
  {
    name: 'an array with an extra property',
    arg: () => Object.assign([1], { note: 'x' }),
    refused: /args\[0\] is an array with a property "note", which JSON drops/,
  },
  {
    name: 'a path with an odd key',
    arg: () => ({ 'a key': [0, { at: new Date(0) }] }),
    refused: /args\[0\]\["a key"\]\[1\]\.at is a Date/,
  },
  { name: '101 levels of nesting', arg: () => deep(101), refused: /args\[0\]\.a\.a.*\.a is nested deeper than 100 levels/ },
];

const received = new Map<string, unknown[]>();

const echo = defineJob('argument-rules.echo', (arg: unknown, ctx) => {
  received.set(ctx.jobId, [arg]);
});

class ArgumentRules {
  receive(...args: unknown[]) {
    const ctx = args.pop() as JobContext;
    received.set(ctx.jobId, args);
  }
}

/**
 * Enqueues every case on `store`, runs the accepted ones with a real worker and checks each
 * arrived unchanged; checks each refused one threw the expected ValidationError and wrote nothing.
 */
export async function checkArgumentRules(store: Store): Promise<void> {
  const client = createClient({ store, logger: silentLogger });
  const accepted = new Map<string, ArgumentCase>();
  for (const rule of ARGUMENT_CASES) {
    const enqueue = () =>
      rule.classArgs ? client.enqueue(ArgumentRules, 'receive', rule.classArgs() as never) : client.enqueue(echo, rule.arg!());
    if (rule.refused) {
      await assert.rejects(enqueue, (error: unknown) => {
        assert.ok(error instanceof ValidationError, `${rule.name}: expected a ValidationError, got ${String(error)}`);
        assert.match(error.message, /^enqueue\(\) args/, rule.name);
        assert.match(error.message, rule.refused!, rule.name);
        return true;
      });
    } else {
      accepted.set(await enqueue(), rule);
    }
  }
  const jobs = await client.listJobs({ limit: 1000 });
  assert.equal(jobs.length, accepted.size, 'a refused case wrote a job');

  const worker = createWorker({ store, jobs: [echo, ArgumentRules], pollInterval: 20, concurrency: 4, logger: silentLogger });
  await worker.start();
  try {
    await waitFor(() => [...accepted.keys()].every((id) => received.has(id)), 'every accepted case to run', 20_000);
  } finally {
    await worker.stop();
  }
  for (const [id, rule] of accepted) {
    assert.deepStrictEqual(received.get(id), rule.classArgs ? rule.classArgs() : [rule.arg!()], rule.name);
  }
}

const anyJob = defineJob('argument-rules.any', (_: unknown) => undefined);

/** Inputs with a NUL or a lone surrogate in every text the stores keep; `x` is the bad text. */
export function badTextCalls(client: Client, x: string): [string, () => Promise<unknown>, RegExp][] {
  class Jobs {
    static jobType = `Jobs${x}`;
    run() {}
  }
  const withMethod = { [`m${x}`]() {} };
  class Methods {}
  Object.assign(Methods.prototype, withMethod);
  return [
    ['metadata value', () => client.enqueue(anyJob, 1, { metadata: { k: `v${x}` } }), /enqueue\(\) options\.metadata\.k contains/],
    ['metadata key', () => client.enqueue(anyJob, 1, { metadata: { [`k${x}`]: 'v' } }), /enqueue\(\) options\.metadata key "k.*" contains/],
    ['dedup key', () => client.enqueue(anyJob, 1, { dedupKey: `d${x}` }), /enqueue\(\) options\.dedupKey contains/],
    [
      'job type',
      () =>
        client.enqueue(
          defineJob(`t${x}`, () => 1),
          undefined,
        ),
      /enqueue\(\) job type contains/,
    ],
    ['class job type', () => client.enqueue(Jobs, 'run', []), /enqueue\(\) job type contains/],
    ['method', () => client.enqueue(Methods, `m${x}` as never, [] as never), /enqueue\(\) method contains/],
    ['parent id', () => client.continueWith(`p${x}`, anyJob, 1), /continueWith\(\) parentId contains/],
    ['recurring id', () => client.recurring.addOrUpdate(`r${x}`, '* * * * *', anyJob, 1), /recurring\.addOrUpdate\(\) id contains/],
    ['cron', () => client.recurring.addOrUpdate('r', `* * * * *${x}`, anyJob, 1), /recurring\.addOrUpdate\(\) cron contains/],
    ['time zone', () => client.recurring.addOrUpdate('r', '* * * * *', anyJob, 1, { timeZone: `UTC${x}` }), /timeZone must be an IANA/],
    ['queue', () => client.enqueue(anyJob, 1, { queue: `q${x}` }), /options\.queue must be/],
  ];
}
