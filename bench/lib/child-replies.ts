import type { ChildProcess } from 'node:child_process';

/**
 * The replies of a forked bench child answering one request at a time: `next()` waits for the next
 * reply (at most `ms`). The child's failure (an `error` reply, or its exit) fails what waits and
 * every later request, so a broken child stops the bench with its own message instead of a hang.
 */
export class ChildReplies<Reply extends { readonly type: string }> {
  readonly #name: string;
  #pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;

  constructor(name: string, child: ChildProcess) {
    this.#name = name;
    child.on('message', (reply: Reply) => {
      if (reply.type === 'error') return this.#fail(new Error(`${name} child failed: ${(reply as { message?: string }).message}`));
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(reply);
    });
    child.on('exit', (code) => this.#fail(new Error(`${name} child exited (code ${code})`)));
  }

  /** The next reply; `what` names the request in the timeout's message. */
  next(ms: number, what: string): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new Error(`${this.#name} child: no answer to ${what} after ${ms} ms`)), ms);
      timer.unref();
      this.#pending = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(this.#failure);
  }
}
