import { ValidationError } from '../errors.ts';
import { LIMITS } from './limits.ts';

/**
 * Job arguments are plain JSON: they are stored as `JSON.stringify(args)` and the handler receives
 * `JSON.parse()` of that. Anything that would not come back identical is refused here, naming its
 * path, its type and what to pass instead, rather than changed without a word (a `Date` arriving
 * as a string, `undefined` as `null`, a `Map` as `{}`).
 *
 * Two documented exceptions, because refusing them would fail enqueues for values that behave the
 * same in the handler: `-0` arrives as `0` (they are `===`; computations such as `Math.round(-0.2)`
 * produce it), and an object without a prototype (`Object.create(null)`, `querystring.parse()`)
 * arrives as a plain object with the same entries. A value referenced twice arrives as two copies.
 */
export function serializeArgs(args: readonly unknown[], api: string): string {
  const problem = new ArgsWalk().check(args);
  if (problem) throw new ValidationError(`${api}() ${problem}`);
  const json = JSON.stringify(args);
  if (json.length > LIMITS.maxArgsBytes && Buffer.byteLength(json) > LIMITS.maxArgsBytes) {
    throw new ValidationError(
      `${api}() payload is ${Buffer.byteLength(json)} bytes once serialized; the limit is ${LIMITS.maxArgsBytes}. ` +
        'Store large data elsewhere and pass its key.',
    );
  }
  return json;
}

/**
 * A handler's return value as it is stored with its job: JSON under the rules of arguments (what
 * JSON would change is refused), at most `LIMITS.maxResultBytes`. Never throws: a result that
 * cannot be stored is a `problem` (the job has done its work and succeeds without it).
 */
export function serializeResult(value: unknown): { readonly json: string } | { readonly problem: string } {
  const problem = new ArgsWalk('result').check(value);
  if (problem) return { problem };
  const json = JSON.stringify(value);
  if (json.length > LIMITS.maxResultBytes && Buffer.byteLength(json) > LIMITS.maxResultBytes) {
    return {
      problem: `result is ${Buffer.byteLength(json)} bytes once serialized; the limit is ${LIMITS.maxResultBytes}: store large results elsewhere and return their key`,
    };
  }
  return { json };
}

/** What to pass instead of an object JSON would change, by its constructor. */
const INSTEAD: Readonly<Record<string, string>> = {
  Date: 'pass date.toISOString() (or date.getTime()) and rebuild the Date in the handler',
  Map: 'pass Object.fromEntries(map) or [...map] and rebuild the Map in the handler',
  Set: 'pass [...set] and rebuild the Set in the handler',
  URL: 'pass url.href and rebuild the URL in the handler',
  RegExp: 'pass its source and flags and rebuild the RegExp in the handler',
  Buffer: "pass buffer.toString('base64') and decode it in the handler (or store the bytes elsewhere and pass their key)",
  ArrayBuffer: "pass Buffer.from(bytes).toString('base64') and decode it in the handler",
  Promise: 'await it and pass its value',
};

class ArgsWalk {
  /** What the walked value is called in a problem: `args`, `result`. */
  readonly #root: string;
  /** Keys from the root down to the value being checked; turned into a path only for an error. */
  readonly #keys: (string | number)[] = [];
  /** Objects on the way down, to tell a circular reference from a value referenced twice. */
  readonly #ancestors = new Set<object>();

  constructor(root = 'args') {
    this.#root = root;
  }

  check(value: unknown): string | undefined {
    return this.#value(value);
  }

  #value(value: unknown): string | undefined {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(value) ? undefined : this.#refuse(`is ${value}: JSON has no such number (it would arrive as null)`);
      case 'undefined':
        return this.#refuse(
          this.#keys.length > 0 && typeof this.#keys.at(-1) === 'number'
            ? 'is undefined (in an array, where JSON writes it as null): pass null'
            : 'is undefined: omit the property or pass null',
        );
      case 'bigint':
        return this.#refuse('is a BigInt: pass it as a string (String(value)) and rebuild it in the handler');
      case 'function':
        return this.#refuse('is a function: JSON drops it; pass data the handler can act on');
      case 'symbol':
        return this.#refuse('is a symbol: JSON drops it; pass a string');
    }
    if (value === null) return undefined;
    return this.#object(value as object);
  }

  #object(object: object): string | undefined {
    if (this.#ancestors.has(object)) return this.#refuse('is a circular reference: JSON cannot write it');
    const isArray = Array.isArray(object);
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto !== (isArray ? Array.prototype : Object.prototype) && !(proto === null && !isArray)) {
      return this.#refuse(notPlain(object));
    }
    // `args` itself is level 0, so this object is level `ancestors.size`.
    if (this.#ancestors.size > LIMITS.maxArgsDepth) {
      return this.#refuse(`is nested deeper than ${LIMITS.maxArgsDepth} levels: flatten the data or store it elsewhere and pass its key`);
    }
    this.#ancestors.add(object);
    try {
      return isArray ? this.#array(object as unknown[]) : this.#plain(object);
    } finally {
      this.#ancestors.delete(object);
    }
  }

  #array(array: readonly unknown[]): string | undefined {
    for (let i = 0; i < array.length; i++) {
      const descriptor = Object.getOwnPropertyDescriptor(array, i);
      if (!descriptor)
        return this.#refuse(`has a hole at index ${i} (a sparse array, which JSON fills with null): fill it, with null if need be`);
      const found = this.#at(i, () =>
        'value' in descriptor ? this.#value(descriptor.value) : this.#refuse('is a getter: pass its value'),
      );
      if (found) return found;
    }
    // Without holes, an array's own keys are its indices and 'length': any other is a property JSON drops.
    const names = Reflect.ownKeys(array);
    if (names.length !== array.length + 1) {
      const extra = names.find((name) => name !== 'length' && !(typeof name === 'string' && isIndex(name, array.length)))!;
      return this.#refuse(`is an array with a property ${describeKey(extra)}, which JSON drops: pass an object instead`);
    }
    return undefined;
  }

  #plain(object: object): string | undefined {
    for (const key of Reflect.ownKeys(object)) {
      if (typeof key === 'symbol') return this.#refuse(`has a symbol key ${String(key)}, which JSON drops: use a string key`);
      const descriptor = Object.getOwnPropertyDescriptor(object, key)!;
      if (key === 'toJSON' && typeof descriptor.value === 'function') {
        return this.#refuse('has a toJSON() method, which JSON would call in its place: pass what it returns');
      }
      const found = this.#at(key, () => {
        if (!descriptor.enumerable)
          return this.#refuse('is a non-enumerable property, which JSON drops: make it enumerable or leave it out');
        // Reading a getter here and again in JSON.stringify could see two different values.
        if (!('value' in descriptor)) return this.#refuse('is a getter (an accessor property): pass its value');
        return this.#value(descriptor.value);
      });
      if (found) return found;
    }
    return undefined;
  }

  #at(key: string | number, check: () => string | undefined): string | undefined {
    this.#keys.push(key);
    try {
      return check();
    } finally {
      this.#keys.pop();
    }
  }

  #refuse(problem: string): string {
    return `${formatPath(this.#root, this.#keys)} ${problem}`;
  }
}

/** Why an object that is neither a plain object nor a plain array cannot be an argument. */
function notPlain(object: object): string {
  if (object instanceof Date) {
    return `is a Date${Number.isNaN(object.getTime()) ? ' (an invalid one)' : ''}: ${INSTEAD.Date}`;
  }
  if (Buffer.isBuffer(object)) return `is a Buffer: ${INSTEAD.Buffer}`;
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer || object instanceof SharedArrayBuffer) {
    return `is ${article(constructorName(object))} ${constructorName(object)}: ${INSTEAD.ArrayBuffer}`;
  }
  const name = constructorName(object);
  if (object instanceof Error) return `is ${article(name)} ${name}: pass its message (and the fields you need) as a plain object`;
  if (object instanceof String || object instanceof Number || object instanceof Boolean) {
    return `is ${article(name)} ${name} object: pass the primitive (value.valueOf())`;
  }
  const instead = INSTEAD[name];
  if (instead) return `is ${article(name)} ${name}: ${instead}`;
  if (Array.isArray(object)) return `is ${article(name)} ${name} (an array subclass): pass a plain array (Array.from(value))`;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return `is ${article(name)} ${name} with a toJSON() method, which JSON would call in its place: pass value.toJSON() if that is what the handler should receive`;
  }
  return `is ${article(name)} ${name} instance: pass a plain object with the fields the handler needs and rebuild it there`;
}

function constructorName(object: object): string {
  const name: unknown = (object as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'anonymous class';
}

function article(name: string): string {
  return /^[AEIO]/i.test(name) ? 'an' : 'a'; // a URL, a Uint8Array
}

function isIndex(name: string, length: number): boolean {
  const index = Number(name);
  return Number.isInteger(index) && index >= 0 && index < length && String(index) === name;
}

function describeKey(key: string | symbol): string {
  return typeof key === 'symbol' ? String(key) : JSON.stringify(key);
}

/** `args[0].when`, `args[1]["a key"][3]`; long paths keep their start and end. */
function formatPath(root: string, keys: readonly (string | number)[]): string {
  const parts = keys.map((key) =>
    typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`,
  );
  const shown = parts.length > 12 ? [...parts.slice(0, 6), '…', ...parts.slice(-5)] : parts;
  return `${root}${shown.join('')}`;
}
