import type { Logger } from '../util/logger.ts';
import type { JobFilter, PerformingContext } from './filter.ts';

type Hook = Exclude<keyof JobFilter, 'order' | 'aroundPerform'>;
type ContextOf<H extends Hook> = Parameters<NonNullable<JobFilter[H]>>[0];

/** Hooks that close an operation run in reverse order, so the first filter in wraps the others. */
const REVERSED: ReadonlySet<Hook> = new Set(['onCreated', 'onPerformed']);
const HOOKS: readonly Hook[] = [
  'onCreating',
  'onCreated',
  'onPerforming',
  'onPerformed',
  'onStateElection',
  'onStateApplied',
  'onStateUnapplied',
];

/**
 * Runs one hook of every filter, in order, each isolated: a hook that throws or rejects is logged
 * and the next one runs. Stays synchronous while every hook is, so filters cost no promise on the
 * hot path.
 */
export class FilterPipeline {
  readonly #byHook = new Map<Hook, JobFilter[]>();
  readonly #logger: Logger;

  constructor(filters: readonly JobFilter[], logger: Logger) {
    this.#logger = logger;
    const ordered = filters.map((filter, index) => ({ filter, index }));
    ordered.sort((a, b) => (a.filter.order ?? 0) - (b.filter.order ?? 0) || a.index - b.index);
    this.#wrappers = ordered.map((entry) => entry.filter).filter((filter) => typeof filter.aroundPerform === 'function');
    for (const hook of HOOKS) {
      const withHook = ordered.map((entry) => entry.filter).filter((filter) => typeof filter[hook] === 'function');
      this.#byHook.set(hook, REVERSED.has(hook) ? withHook.reverse() : withHook);
    }
  }

  readonly #wrappers: JobFilter[];

  get hasWrappers(): boolean {
    return this.#wrappers.length > 0;
  }

  has(hook: Hook): boolean {
    return this.#byHook.get(hook)!.length > 0;
  }

  /**
   * Runs `perform` inside every filter's `aroundPerform`, the first filter outermost. `perform` runs
   * exactly once: a wrapper that fails without calling it is logged and skipped.
   */
  wrap(context: PerformingContext, perform: () => Promise<unknown>): Promise<unknown> {
    let next = perform;
    for (let i = this.#wrappers.length - 1; i >= 0; i--) {
      const filter = this.#wrappers[i]!;
      const inner = once(next);
      next = () => {
        try {
          return filter.aroundPerform!(context, inner.call).catch((error: unknown) => this.#unwrapped(filter, inner, error));
        } catch (error) {
          return this.#unwrapped(filter, inner, error);
        }
      };
    }
    return next();
  }

  /** A wrapper failed: the handler's own outcome if it ran, else run it now. */
  #unwrapped(filter: JobFilter, inner: ReturnType<typeof once>, error: unknown): Promise<unknown> {
    if (inner.result) return inner.result;
    this.#report(filter, 'aroundPerform', error);
    return inner.call();
  }

  run<H extends Hook>(hook: H, context: ContextOf<H>): void | Promise<void> {
    const filters = this.#byHook.get(hook)!;
    for (let i = 0; i < filters.length; i++) {
      const result = this.#call(filters[i]!, hook, context);
      if (result) return this.#runRest(result, filters, i + 1, hook, context);
    }
  }

  async #runRest<H extends Hook>(
    pending: Promise<void>,
    filters: JobFilter[],
    from: number,
    hook: H,
    context: ContextOf<H>,
  ): Promise<void> {
    await pending;
    for (let i = from; i < filters.length; i++) await this.#call(filters[i]!, hook, context);
  }

  /** Calls one hook; returns a promise only if the hook returned one. */
  #call<H extends Hook>(filter: JobFilter, hook: H, context: ContextOf<H>): Promise<void> | undefined {
    try {
      const result = (filter[hook] as (context: ContextOf<H>) => unknown).call(filter, context);
      if (result && typeof (result as Promise<void>).then === 'function') {
        return (result as Promise<void>).then(undefined, (error: unknown) => this.#report(filter, hook, error));
      }
    } catch (error) {
      this.#report(filter, hook, error);
    }
    return undefined;
  }

  #report(filter: JobFilter, hook: Hook | 'aroundPerform', error: unknown): void {
    // A filter may rethrow what the handler threw, and a logger that stringifies a hostile value
    // (a throwing getter, a Proxy) throws too: the job still goes on.
    try {
      const name = filter.constructor?.name && filter.constructor.name !== 'Object' ? filter.constructor.name : 'filter';
      this.#logger.error(`${name}.${hook} threw; the job goes on`, { error });
    } catch {
      // nothing more can be said about it
    }
  }
}

/** A function that runs once; later calls get the first call's promise. */
function once(run: () => Promise<unknown>): { call: () => Promise<unknown>; result: Promise<unknown> | undefined } {
  const state: { call: () => Promise<unknown>; result: Promise<unknown> | undefined } = {
    result: undefined,
    call: () => (state.result ??= run()),
  };
  return state;
}
