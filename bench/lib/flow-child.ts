import { fork, type ChildProcess } from 'node:child_process';
import { ChildReplies } from './child-replies.ts';
import { fileURLToPath } from 'node:url';
import type { BacklogRun } from './flow-scenarios.ts';
import type { ThroughputResult } from './scenarios.ts';

/**
 * The flow-control bench's child processes (`flow-bench-child.ts`): one per configuration, each
 * loading Pilotlight from the checkout it is told (the current one, or the baseline's worktree) and
 * running, on request, one `processUntilDone()` on a fresh database of either store. The parent
 * runs them one at a time, so they never compete for the CPU; one process per configuration keeps
 * each one's JIT feedback to itself.
 */

export type StoreName = 'sqlite' | 'postgres';

export type FlowRequest =
  { readonly type: 'run'; readonly id: number; readonly store: StoreName; readonly run: BacklogRun } | { readonly type: 'stop' };

export type FlowReply =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly result: ThroughputResult }
  | { readonly type: 'error'; readonly message: string };

/** Longest a run may take before the child is given up on. */
const RUN_TIMEOUT_MS = 600_000;

/** A configuration's child process. */
export class FlowChild {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #replies: ChildReplies<FlowReply>;
  #nextId = 1;

  /** `checkout`: the repository root whose `packages/` and `bench/lib/*-target.ts` the child loads. */
  constructor(name: string, checkout: string) {
    this.name = name;
    const script = fileURLToPath(new URL('./flow-bench-child.ts', import.meta.url));
    // Not this process's execArgv (a profiled parent must not profile its children); the source
    // condition so that `pilotlight` imported by the PostgreSQL store resolves to the checkout's TypeScript.
    this.#child = fork(script, [checkout], {
      execArgv: ['--no-warnings', '--conditions=@pilotlight/source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#replies = new ChildReplies(name, this.#child);
  }

  /** Resolves once the child has loaded its checkout's modules. */
  async ready(): Promise<void> {
    const reply = await this.#replies.next(60_000, 'start');
    if (reply.type !== 'ready') throw new Error(`${this.name} child: expected ready, got ${reply.type}`);
  }

  async run(store: StoreName, run: BacklogRun): Promise<ThroughputResult> {
    const id = this.#nextId++;
    const reply = this.#replies.next(RUN_TIMEOUT_MS, `${store} ${JSON.stringify(run)}`);
    this.#child.send({ type: 'run', id, store, run } satisfies FlowRequest);
    const answer = await reply;
    if (answer.type !== 'result' || answer.id !== id) {
      throw new Error(`${this.name} child: expected result ${id}, got ${JSON.stringify(answer)}`);
    }
    return answer.result;
  }

  /** Asks the child to stop and waits for it to exit (killed after 30 s). */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.connected) this.#child.send({ type: 'stop' } satisfies FlowRequest);
    const timer = setTimeout(() => this.#child.kill(), 30_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
