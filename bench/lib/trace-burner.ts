import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A process that only burns CPU, busy for `share` of every 10 ms (0.7: 7 ms busy, 3 ms asleep): the
 * control of the traces bench's job rounds, a tight loop using as much CPU as the receiver did while
 * it ingested, and nothing else (no I/O, no lock, no socket, next to no memory). The slowdown beside
 * it is what the CPU time alone costs the worker on this machine; what B costs beyond it comes from
 * the rest of the receiver's work (its memory and cache traffic, its I/O).
 */
export function startBurner(share: number): { stop(): void } {
  const busyMs = Math.min(10, Math.max(0, share * 10));
  const program = `const pause = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  const start = performance.now();
  while (performance.now() - start < ${busyMs}) {}
  if (${busyMs} < 10) Atomics.wait(pause, 0, 0, ${10 - busyMs});
}`;
  const child: ChildProcess = spawn(process.execPath, ['-e', program], { stdio: 'ignore' });
  return { stop: () => void child.kill('SIGKILL') };
}
