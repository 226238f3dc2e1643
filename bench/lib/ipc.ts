/** Messages between the latency scenario and its worker child (`fixtures/pickup-worker.ts`). */
export type ParentMessage = { type: 'ping'; id: number } | { type: 'stop' };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'pong'; id: number; at: number }
  | { type: 'started'; seq: number; enqueuedAt: number; startedAt: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };
