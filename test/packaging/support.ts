/**
 * What the packaging tests share: running real processes with a bounded time, an environment free of
 * the repository's `@pilotlight/source` condition, and Node.js binaries of exact versions installed
 * from the npm registry (`node@X.Y.Z`) into a cache outside the repository, kept between runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(import.meta.dirname, 'fixtures');
/** Node.js binaries and other downloads kept between runs (never inside the repository). */
export const CACHE_DIR = join(tmpdir(), 'pilotlight-packaging-cache');

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

const running = new Set<ChildProcess>();
/** Kills whatever a test left running, with its process group when it has one of its own (call from `after`). */
export function killAll(): void {
  for (const child of running) {
    if (groups.has(child)) stopGroup(child, 'SIGKILL');
    else child.kill('SIGKILL');
  }
}
const groups = new WeakSet<ChildProcess>();

/** A process started by `start()`: its output so far, and its end. */
export interface Started {
  readonly child: ChildProcess;
  readonly output: { readonly stdout: string; readonly stderr: string };
  /** Resolves when the process ended (never rejects for a non-zero exit). */
  readonly exited: Promise<RunResult>;
}

/**
 * Starts a command with its output piped. With `group`, in a process group of its own, which
 * `stopGroup()` signals as a terminal's Ctrl+C does (every process of it, npm and its child alike).
 */
export function start(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; group?: boolean },
): Started {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group === true,
  });
  running.add(child);
  if (options.group === true) groups.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (error) => {
      running.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, ...output, ms: Math.round(performance.now() - started) });
    });
  });
  return { child, output, exited };
}

/** Sends `signal` to the process group of a child started with `group`. */
export function stopGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ESRCH') throw error; // already gone
  }
}

/**
 * Runs a command to its end, or kills it (SIGKILL) after `timeout` ms and rejects with its output.
 * Never rejects for a non-zero exit: callers assert on `code` and print the output.
 */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<RunResult> {
  const timeout = options.timeout ?? 60_000;
  const { child, output, exited } = start(command, args, options);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeout} ms\n${describeOutput(output)}`));
    }, timeout);
  });
  try {
    return await Promise.race([exited, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Both streams of a finished process, for assertion messages. */
export function describeOutput(result: { stdout: string; stderr: string; code?: number | null; signal?: NodeJS.Signals | null }): string {
  const status = result.code === undefined ? '' : `exit code ${result.code}${result.signal ? `, signal ${result.signal}` : ''}\n`;
  return `${status}--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/**
 * The environment of a user's shell: no NODE_OPTIONS (the repository's scripts set
 * `--conditions=@pilotlight/source` there, which would point at src/), no OTEL_* settings, and none
 * of the per-package variables `npm run` adds for the repository. The Node.js running the tests comes
 * first on PATH, so that `npm` and the prepack scripts run on it.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('OTEL_')) continue;
    if (key.startsWith('npm_package_') || key.startsWith('npm_lifecycle_')) continue;
    if (
      [
        'npm_config_local_prefix',
        'npm_config_call',
        'npm_config_workspace',
        'npm_config_workspaces',
        'npm_config_include_workspace_root',
        'INIT_CWD',
      ].includes(key)
    )
      continue;
    env[key] = value;
  }
  env.PATH = `${dirname(process.execPath)}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`;
  return { ...env, ...extra };
}

/**
 * How to run npm's own `npm` or `npx` on the Node.js running the tests: under `npm test`,
 * npm_execpath is npm's CLI script (npx-cli.js sits beside it); otherwise the one on PATH.
 */
function npmCli(tool: 'npm' | 'npx', args: readonly string[]): [string, string[]] {
  const cli = process.env.npm_execpath;
  if (!cli || !cli.endsWith('.js')) return [tool, [...args]];
  return [process.execPath, [tool === 'npm' ? cli : join(dirname(cli), 'npx-cli.js'), ...args]];
}

/** `npm <args>` on the Node.js running the tests, in a clean environment. */
export function npm(args: readonly string[], options: { cwd: string; timeout?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  const [command, commandArgs] = npmCli('npm', args);
  return run(command, commandArgs, { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeout ?? 240_000 });
}

/** `npx <args>`, to its end (`timeout`) or started in a process group of its own (`group`, for `stopGroup`). */
export function npx(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number }): Promise<RunResult>;
export function npx(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; group: true }): Started;
export function npx(
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number; group?: true },
): Promise<RunResult> | Started {
  const [command, commandArgs] = npmCli('npx', args);
  return options.group ? start(command, commandArgs, options) : run(command, commandArgs, options);
}

const installs = new Map<string, Promise<{ binary: string; note: string }>>();

/**
 * A `node` binary of exactly `version`, installed from the npm registry (`node@version`) into
 * CACHE_DIR on first use and reused afterwards, with a note saying which it was and how long it took.
 * Installs go to a scratch folder renamed into place when complete, so an interrupted install is
 * never mistaken for a finished one.
 */
export function nodeBinary(version: string): Promise<{ binary: string; note: string }> {
  let install = installs.get(version);
  if (!install) {
    install = installNode(version);
    installs.set(version, install);
  }
  return install;
}

async function installNode(version: string): Promise<{ binary: string; note: string }> {
  const dir = join(CACHE_DIR, `node-${version}`);
  const binary = join(dir, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
  if (existsSync(binary) && (await reportedVersion(binary)) === `v${version}`) {
    return { binary, note: `Node.js ${version}: cached at ${binary}` };
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const scratch = `${dir}.installing-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  // The `node` package downloads the platform's binary in its preinstall script.
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'node-cache', private: true, allowScripts: { node: true } }));
  const started = performance.now();
  const result = await npm(['install', `node@${version}`, '--save-exact', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: scratch });
  if (result.code !== 0) throw new Error(`npm install node@${version} failed\n${describeOutput(result)}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(scratch, dir);
  const installed = await reportedVersion(binary);
  if (installed !== `v${version}`) throw new Error(`node@${version} installed ${binary}, which reports ${installed}`);
  return { binary, note: `Node.js ${version}: installed from the registry in ${Math.round(performance.now() - started)} ms at ${binary}` };
}

async function reportedVersion(binary: string): Promise<string> {
  try {
    const result = await run(binary, ['--version'], { cwd: CACHE_DIR, timeout: 30_000 });
    return result.stdout.trim();
  } catch {
    return '';
  }
}

/** The last line of a program's stdout, parsed as JSON (the programs print their summary last). */
export function lastJsonLine<T = any>(result: RunResult): T {
  const lines = result.stdout.trim().split('\n');
  const last = lines.at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`expected a JSON summary as the last line of stdout\n${describeOutput(result)}`);
  }
}
