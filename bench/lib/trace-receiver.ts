import { fork, type ChildProcess } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceStoreConfig } from './trace-stores.ts';

/**
 * The parent's handle on the receiver child (`trace-receiver-child.ts`): a dashboard receiving OTLP
 * on `http://127.0.0.1:<port>/v1/traces` in a process of its own, as a deployment runs it, so that
 * its CPU and memory are its own and not the load generator's.
 */

/** Highest RSS and V8 heap used, sampled every 100 ms, and the CPU the process used (all its threads) over the same time. */
export interface MemoryPeaks {
  readonly rssBytes: number;
  readonly heapBytes: number;
  /** CPU time (user + system) used since the previous `memory` request, in ms. */
  readonly cpuMs: number;
  /** Wall time since the previous `memory` request, in ms. */
  readonly wallMs: number;
}

export type ReceiverRequest =
  | { readonly type: 'count'; readonly id: number }
  /** The peaks since the last `memory` request (or the start), which starts new ones. */
  | { readonly type: 'memory'; readonly id: number }
  | { readonly type: 'stop' };

export type ReceiverReply =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'count'; readonly id: number; readonly spans: number }
  | { readonly type: 'memory'; readonly id: number; readonly peaks: MemoryPeaks }
  | { readonly type: 'error'; readonly message: string };

export class ReceiverChild {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (reply: ReceiverReply) => void>();
  readonly #ready: Promise<number>;
  readonly #exited: Promise<void>;
  #failure: Error | undefined;
  #nextId = 1;

  /** `profile`: write a V8 CPU profile of the child to this file when it exits. */
  constructor(config: TraceStoreConfig, profile?: string) {
    const script = fileURLToPath(new URL('./trace-receiver-child.ts', import.meta.url));
    const profiling = profile ? ['--cpu-prof', '--cpu-prof-dir', dirname(profile), '--cpu-prof-name', basename(profile)] : [];
    // Not this process's execArgv: a profiled bench must not profile the child by accident.
    this.#child = fork(script, [JSON.stringify(config)], {
      execArgv: ['--no-warnings', ...profiling],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    let ready: (port: number) => void = () => {};
    this.#ready = new Promise((resolve, reject) => {
      ready = resolve;
      this.#child.once('exit', (code) => reject(this.#failure ?? new Error(`receiver child exited (code ${code})`)));
    });
    this.#ready.catch(() => {});
    this.#child.on('message', (reply: ReceiverReply) => {
      if (reply.type === 'error') return this.#fail(new Error(`receiver child failed: ${reply.message}`));
      if (reply.type === 'ready') return ready(reply.port);
      const waiter = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      waiter?.(reply);
    });
    this.#child.on('exit', (code) => this.#fail(new Error(`receiver child exited (code ${code})`)));
  }

  /** The receiver's OTLP/HTTP traces endpoint, once it listens. */
  async url(): Promise<string> {
    return `http://127.0.0.1:${await this.#ready}/v1/traces`;
  }

  /** `countSpans()` of the receiver's trace store. */
  async countSpans(): Promise<number> {
    const reply = await this.#ask('count');
    return reply.type === 'count' ? reply.spans : Number.NaN;
  }

  /** The memory peaks since the last call (or the start). */
  async memoryPeaks(): Promise<MemoryPeaks> {
    const reply = await this.#ask('memory');
    if (reply.type !== 'memory') throw new Error(`receiver child: expected memory, got ${reply.type}`);
    return reply.peaks;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.connected) this.#child.send({ type: 'stop' } satisfies ReceiverRequest);
    const timer = setTimeout(() => this.#child.kill(), 30_000);
    await this.#exited;
    clearTimeout(timer);
  }

  #ask(type: 'count' | 'memory'): Promise<ReceiverReply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (reply) => (reply.type === 'error' ? reject(this.#failure) : resolve(reply)));
      this.#child.send({ type, id } satisfies ReceiverRequest);
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.values()) waiter({ type: 'error', message: error.message });
    this.#waiting.clear();
  }
}
