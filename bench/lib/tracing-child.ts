import { fork, type ChildProcess } from 'node:child_process';
import { ChildReplies } from './child-replies.ts';
import { fileURLToPath } from 'node:url';
import type { ThroughputResult } from './scenarios.ts';

/**
 * The tracing bench's configurations and the parent's handle on the child process that runs one of
 * them (`fixtures/tracing-worker.ts`). Each configuration lives in a process of its own for the whole
 * bench: the OpenTelemetry globals (provider, context manager, propagator) cannot be unregistered
 * reliably, and one process per configuration also keeps each one's JIT feedback unmixed. The parent
 * runs them one at a time, so they never compete for the CPU.
 */

export const CONFIG_NAMES = ['off', 'no-sdk', 'sdk-traces', 'sdk-traces+metrics'] as const;
export type ConfigName = (typeof CONFIG_NAMES)[number];

/** What every comparison is against. */
export const BASELINE: ConfigName = 'off';

export interface TracingConfig {
  readonly label: string;
  /** `tracing.enabled` of the client and the worker. */
  readonly tracing: boolean;
  /** `metrics.enabled` of the client and the worker. */
  readonly metrics: boolean;
  /** Whether the process registers the OpenTelemetry tracing SDK globally (`registerTracingSdk()` in `lib/otel-sdk.ts`). */
  readonly tracingSdk: boolean;
  /** Whether the process registers the OpenTelemetry metrics SDK globally (`registerMetricsSdk()` in `lib/otel-sdk.ts`). */
  readonly metricsSdk: boolean;
}

export const CONFIGS: Readonly<Record<ConfigName, TracingConfig>> = {
  off: { label: 'off: tracing and metrics enabled: false', tracing: false, metrics: false, tracingSdk: false, metricsSdk: false },
  'no-sdk': { label: 'no-sdk: both on, no-op API', tracing: true, metrics: true, tracingSdk: false, metricsSdk: false },
  'sdk-traces': {
    label: 'sdk-traces: tracing + SDK, metrics off',
    tracing: true,
    metrics: false,
    tracingSdk: true,
    metricsSdk: false,
  },
  'sdk-traces+metrics': {
    label: 'sdk-traces+metrics: both + SDK',
    tracing: true,
    metrics: true,
    tracingSdk: true,
    metricsSdk: true,
  },
};

export type ScenarioName = 'process' | 'enqueue';

export type TracingRequest =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly scenario: ScenarioName;
      readonly jobs: number;
      /** `process` only. */
      readonly concurrency: number;
      /** `process` only: enqueue the backlog with tracing off whatever the configuration (no stored trace context). */
      readonly untracedBacklog: boolean;
    }
  | { readonly type: 'stop' };

export interface TracingRunResult extends ThroughputResult {
  /** Spans the SDK exported for the timed part (0 without the tracing SDK). */
  readonly spans: number;
  /**
   * Jobs the metrics SDK counted in the timed part (0 without the metrics SDK): attempts started
   * (`messaging.client.consumed.messages`) when processing, jobs created (`messaging.client.sent.messages`) when enqueueing.
   */
  readonly counted: number;
  /** Metric exports during the timed part (0 without the metrics SDK). */
  readonly metricExports: number;
}

export type TracingReply =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly result: TracingRunResult }
  | { readonly type: 'error'; readonly message: string };

/** A configuration's child process. */
export class TracingChild {
  readonly name: ConfigName;
  readonly #child: ChildProcess;
  readonly #replies: ChildReplies<TracingReply>;
  #nextId = 1;
  readonly #exited: Promise<void>;

  /** `profileDir`: write a V8 CPU profile of the child there (`<name>.cpuprofile`) when it exits. */
  constructor(name: ConfigName, profileDir?: string) {
    this.name = name;
    const script = fileURLToPath(new URL('../fixtures/tracing-worker.ts', import.meta.url));
    const profile = profileDir
      ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}.cpuprofile`, '--cpu-prof-interval', '250']
      : [];
    // Not this process's execArgv: a profiled parent must not profile its children by accident.
    this.#child = fork(script, [name], { execArgv: ['--no-warnings', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#replies = new ChildReplies(name, this.#child);
  }

  /** Resolves once the child has imported everything and registered its SDK. */
  async ready(): Promise<void> {
    const reply = await this.#replies.next(60_000, 'start');
    if (reply.type !== 'ready') throw new Error(`${this.name} child: expected ready, got ${reply.type}`);
  }

  async run(
    scenario: ScenarioName,
    jobs: number,
    options: { concurrency?: number; untracedBacklog?: boolean } = {},
  ): Promise<TracingRunResult> {
    const id = this.#nextId++;
    const reply = this.#replies.next(600_000, `${scenario} x ${jobs}`);
    this.#child.send({
      type: 'run',
      id,
      scenario,
      jobs,
      concurrency: options.concurrency ?? 10,
      untracedBacklog: options.untracedBacklog ?? false,
    } satisfies TracingRequest);
    const answer = await reply;
    if (answer.type !== 'result' || answer.id !== id)
      throw new Error(`${this.name} child: expected result ${id}, got ${JSON.stringify(answer)}`);
    return answer.result;
  }

  /** Asks the child to stop and waits for it to exit (it writes its CPU profile on exit). */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.connected) this.#child.send({ type: 'stop' } satisfies TracingRequest);
    const timer = setTimeout(() => this.#child.kill(), 30_000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Kills the child if it is still running (after a failure). */
  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill();
  }
}
