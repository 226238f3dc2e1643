/** Runs a fixture in a child process with the given environment (and none of the parent's OTEL_*). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningChild {
  readonly process: ChildProcess;
  /** Resolves when stdout contains `text`. */
  waitFor(text: string): Promise<void>;
  readonly done: Promise<ChildResult>;
}

export function startChild(fixture: string, env: Record<string, string>, execArgv: string[] = []): RunningChild {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')));
  const child = spawn(process.execPath, [...execArgv, new URL(`../fixtures/${fixture}`, import.meta.url).pathname], {
    cwd: new URL('../..', import.meta.url).pathname, // the package: `--import @pilotlight/otel/register` resolves from here
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const waiter of waiters.filter((w) => stdout.includes(w.text))) waiter.resolve();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const done = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));
  return {
    process: child,
    done,
    waitFor(text) {
      if (stdout.includes(text)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ text, resolve });
        void done.then((r) => reject(new Error(`child exited before printing "${text}": ${JSON.stringify(r)}`)));
      });
    },
  };
}

export async function runChild(fixture: string, env: Record<string, string>, execArgv: string[] = []): Promise<ChildResult> {
  return startChild(fixture, env, execArgv).done;
}
