/**
 * What tracing costs the in-process task manager (`createTaskManager()`), against the claims the README's
 * performance section documents: "CPU: a few microseconds per task" and "Memory: ~1-2 KB per active span". Three configurations,
 * each in a child process of its own (this file, forked with `--child <name>` and `--expose-gc`):
 *   disabled   createTaskManager({ tracing: { enabled: false } })
 *   no-sdk     tracing on (the default), nothing registered: the no-op OpenTelemetry API
 *   sdk        tracing on, the real SDK registered globally: TracerProvider + BatchSpanProcessor around
 *              an exporter that drops every span, AsyncLocalStorageContextManager, W3C propagators
 *              (`lib/otel-sdk.ts`)
 * Each round forks one child per configuration, one at a time, in an order that rotates each round;
 * comparisons are paired per round, medians reported. A child:
 *   1. CPU: 10 callers each start a no-op task and await its result, again and again, N tasks in all
 *      (concurrency 10: a task starts as soon as it is started); after a warm-up of the same size, it
 *      times a second batch: process.cpuUsage() (every thread) per task.
 *   2. Memory: starts M tasks that block (concurrency M, so all M are running: M active spans), then
 *      heapUsed after a full GC, minus heapUsed before they started (also after a GC), per task.
 *   3. SDK child only, for reference: the SDK's own cost of such a span, without the task manager:
 *      the same API calls, one span per microtask, N spans (after a warm-up of N).
 *
 *   node bench/tasks.ts              full run, 11 rounds (about a minute on 2 cores)
 *   node bench/tasks.ts --quick      small counts, 2 rounds: a smoke test
 *   node bench/tasks.ts --rounds 11
 *
 * Exits 1 if a target is missed (see TARGETS), 2 on bad arguments.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTaskManager, defineTask, type TaskTracingOptions } from '../packages/pilotlight/src/tasks/index.ts';
import { silentLogger } from '../packages/pilotlight/src/util/logger.ts';
import { formatDuration, formatInt, formatRate } from './lib/format.ts';
import { printMachine } from './lib/machine.ts';
import { otelVersions, type TracingSdk } from './lib/otel-sdk.ts';
import { median } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const CONFIGS = {
  disabled: { label: 'tracing disabled (enabled: false)', tracing: false, sdk: false },
  'no-sdk': { label: 'tracing on, no SDK (no-op API)', tracing: true, sdk: false },
  sdk: { label: 'tracing on, SDK (batch, dropping exporter)', tracing: true, sdk: true },
} as const;
type ConfigName = keyof typeof CONFIGS;
const CONFIG_NAMES = Object.keys(CONFIGS) as ConfigName[];

/** The documented claims, as targets for the SDK configuration against tracing disabled. */
const TARGETS = {
  /** "a few microseconds per task" */
  addedCpuUs: 5,
  /** "~1-2 KB per active span" */
  bytesPerActiveSpan: 2_048,
};
const CPU_CONCURRENCY = 10;

interface ChildResult {
  readonly tasks: number;
  readonly ms: number;
  readonly cpuMs: number;
  /** Spans the SDK exported for the timed batch (0 without the SDK). */
  readonly spans: number;
  readonly activeTasks: number;
  readonly heapBytes: number;
  /** SDK child only: CPU µs per span of the same API calls without the task manager. */
  readonly sdkAloneUs?: number;
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    child: { type: 'string' },
    tasks: { type: 'string' },
    active: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.child !== undefined) await runChild(values.child as ConfigName, Number(values.tasks), Number(values.active));
else await runParent();

async function runParent(): Promise<void> {
  if (values.help) {
    console.log('usage: node bench/tasks.ts [--quick] [--rounds N]');
    return;
  }
  const quick = values.quick;
  const rounds = values.rounds === undefined ? (quick ? 2 : 11) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`--rounds must be a positive integer; received ${values.rounds}`);
    process.exit(2);
  }
  const counts = quick ? { tasks: 5_000, active: 2_000 } : { tasks: 50_000, active: 10_000 };
  const started = performance.now();
  const results = Object.fromEntries(CONFIG_NAMES.map((name) => [name, [] as ChildResult[]])) as Record<ConfigName, ChildResult[]>;
  for (let round = 0; round < rounds; round++) {
    const order = CONFIG_NAMES.map((_, i) => CONFIG_NAMES[(i + round) % CONFIG_NAMES.length]!);
    for (const name of order) {
      const result = await forkChild(name, counts.tasks, counts.active);
      results[name].push(result);
      const heap = result.heapBytes / result.activeTasks;
      process.stderr.write(
        `  round ${round + 1}/${rounds} ${name}: ${cpuUs(result).toFixed(2)} CPU µs/task, ${formatInt(heap)} B/active task, ${result.spans} spans\n`,
      );
    }
  }

  console.log(`\nPilotlight task manager: tracing overhead${quick ? ' (--quick)' : ''}\n`);
  printMachine({ OpenTelemetry: otelVersions() });
  console.log(`  Rounds        ${rounds}; each forks every configuration once, in rotating order; medians shown\n`);

  printTable(
    [
      `${formatInt(counts.tasks)} no-op tasks, ${CPU_CONCURRENCY} callers; ${formatInt(counts.active)} running at once`,
      { title: 'Tasks/s', align: 'right' },
      { title: 'CPU µs/task', align: 'right' },
      'Rounds (CPU µs)',
      { title: 'Heap B/active task', align: 'right' },
      'Rounds (B)',
    ],
    CONFIG_NAMES.map((name) => {
      const runs = results[name];
      const cpu = runs.map(cpuUs);
      const heap = runs.map(heapPerTask);
      return [
        CONFIGS[name].label,
        formatRate(median(runs.map((run) => (run.tasks * 1000) / run.ms))),
        median(cpu).toFixed(2),
        `[${cpu.map((value) => value.toFixed(2)).join(', ')}]`,
        formatInt(median(heap)),
        `[${heap.map(formatInt).join(', ')}]`,
      ];
    }),
  );
  console.log();

  let allMet = true;
  const verdict = (met: boolean): string => {
    if (!met) allMet = false;
    return met ? 'yes' : 'NO';
  };
  const addedCpu = paired(results, 'sdk', (sdk, off) => cpuUs(sdk) - cpuUs(off));
  const addedHeap = paired(results, 'sdk', (sdk, off) => heapPerTask(sdk) - heapPerTask(off));
  const sdkAlone = results.sdk.map((run) => run.sdkAloneUs!);
  const ownShare = paired(results, 'sdk', (sdk, off) => cpuUs(sdk) - cpuUs(off) - sdk.sdkAloneUs!);
  const noSdkCpu = paired(results, 'no-sdk', (api, off) => cpuUs(api) - cpuUs(off));
  const noSdkHeap = paired(results, 'no-sdk', (api, off) => heapPerTask(api) - heapPerTask(off));
  printTable(
    [
      'Tracing vs disabled (paired per round)',
      { title: 'Median', align: 'right' },
      'Rounds: min .. max',
      'Documented claim / target',
      'Met',
    ],
    [
      [
        'CPU added per task, SDK',
        us(addedCpu.median),
        range(addedCpu, us),
        `a few µs: <= ${TARGETS.addedCpuUs} µs`,
        verdict(addedCpu.median <= TARGETS.addedCpuUs),
      ],
      [
        '  of which the SDK alone (same span, no task)',
        us(median(sdkAlone)),
        range({ median: median(sdkAlone), values: sdkAlone }, us),
        '',
        '',
      ],
      ['  of which the task manager', us(ownShare.median), range(ownShare, us), '', ''],
      [
        'Memory per active span, SDK',
        bytes(addedHeap.median),
        range(addedHeap, bytes),
        `~1-2 KB: <= ${bytes(TARGETS.bytesPerActiveSpan)}`,
        verdict(addedHeap.median <= TARGETS.bytesPerActiveSpan),
      ],
      ['CPU added per task, no SDK', us(noSdkCpu.median), range(noSdkCpu, us), 'near-free', ''],
      ['Memory per active task, no SDK', bytes(noSdkHeap.median), range(noSdkHeap, bytes), 'near-free', ''],
    ],
  );
  console.log();
  const spansPerTask = median(results.sdk.map((run) => run.spans / run.tasks));
  for (const note of [
    `CPU: process.cpuUsage() (user + system, every thread of the child) while ${CPU_CONCURRENCY} callers start ${formatInt(counts.tasks)} tasks in all, each awaiting its task's result before starting the next; after a warm-up batch of the same size.`,
    `Memory: heapUsed after gc() with ${formatInt(counts.active)} tasks running (blocked on a promise), minus heapUsed before they were started, per task; the SDK's BatchSpanProcessor holds ended spans only, so this is what live spans (and their contexts) cost.`,
    `SDK spans exported per task in the timed batch: ${spansPerTask.toFixed(2)} (1.00 expected).`,
    `Total time ${formatDuration(performance.now() - started)}; ${allMet ? 'the documented claims hold' : 'some targets MISSED'}.`,
  ]) {
    console.log(`  ${note}`);
  }
  process.exitCode = allMet ? 0 : 1;
}

function forkChild(name: ConfigName, tasks: number, active: number): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  const child = fork(script, ['--child', name, '--tasks', String(tasks), '--active', String(active)], {
    execArgv: ['--expose-gc', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: ChildResult | undefined;
    child.on('message', (message: ChildResult) => (result = message));
    child.on('error', reject);
    child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`${name} child exited with code ${code}`))));
  });
}

async function runChild(name: ConfigName, count: number, active: number): Promise<void> {
  const config = CONFIGS[name];
  const gc = globalThis.gc;
  if (!config || !process.send || !gc || !(count > 0) || !(active > 0)) {
    console.error('usage: fork(bench/tasks.ts, [--child disabled|no-sdk|sdk, --tasks N, --active M], { execArgv: [--expose-gc] })');
    process.exit(2);
  }
  // Imported only where used: the other configurations must not even load the SDK.
  const sdk: TracingSdk | undefined = config.sdk ? (await import('./lib/otel-sdk.ts')).registerTracingSdk() : undefined;
  const tracing: TaskTracingOptions = { enabled: config.tracing };
  const noop = defineTask('BenchTask', async () => undefined);

  const cpuManager = createTaskManager({ concurrency: CPU_CONCURRENCY, tracing, logger: silentLogger });
  // CPU_CONCURRENCY callers, each starting a task and awaiting its result, `count` tasks in all.
  const batch = (): Promise<unknown> =>
    Promise.all(
      Array.from({ length: CPU_CONCURRENCY }, async () => {
        for (let i = 0; i < count / CPU_CONCURRENCY; i++) await cpuManager.start(noop, undefined, { name: 'Bench task' }).result;
      }),
    );
  await batch(); // warm-up
  await sdk?.flush();
  const exportedBefore = sdk?.exported() ?? 0;
  gc();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await batch();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await sdk?.flush();
  const spans = (sdk?.exported() ?? 0) - exportedBefore;
  await cpuManager.shutdown();

  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const blocking = defineTask('BlockingBenchTask', () => gate);
  const memoryManager = createTaskManager({ concurrency: active, tracing, logger: silentLogger });
  const handles: Promise<unknown>[] = [];
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < active; i++) handles.push(memoryManager.start(blocking, undefined, { name: 'Blocking bench task' }).result);
  await new Promise((resolve) => setImmediate(resolve));
  if (memoryManager.list({ status: 'Running' }).length !== active) throw new Error(`expected ${active} running tasks`);
  gc();
  gc();
  const heapBytes = process.memoryUsage().heapUsed - before;
  release();
  await Promise.all(handles);
  await memoryManager.shutdown();
  let sdkAloneUs: number | undefined;
  if (sdk) {
    await spansAlone(count); // warm-up
    gc();
    const cpuAlone = process.cpuUsage();
    await spansAlone(count);
    const usedAlone = process.cpuUsage(cpuAlone);
    sdkAloneUs = (usedAlone.user + usedAlone.system) / count;
    await sdk.shutdown();
  }
  process.send({
    tasks: count,
    ms,
    cpuMs: (used.user + used.system) / 1000,
    spans,
    activeTasks: active,
    heapBytes,
    sdkAloneUs,
  } satisfies ChildResult);
  process.disconnect();
}

/** The OpenTelemetry calls a task's span makes (`src/tasks/task-span.ts`), one span per microtask, with no task around them. */
async function spansAlone(count: number): Promise<void> {
  const tracer = trace.getTracer('pilotlight.tasks.reference');
  const run = (): undefined => undefined;
  for (let i = 0; i < count; i++) {
    const parent = context.active();
    const span = tracer.startSpan(
      'BackgroundTask.BenchTask',
      { kind: SpanKind.INTERNAL, attributes: { 'task.id': `id-${i}`, 'task.type': 'BenchTask', 'task.name': 'Bench task' } },
      parent,
    );
    span.addEvent('task.started');
    await context.with(trace.setSpan(parent, span), run);
    span.setAttributes({ 'task.status': 'Completed', 'task.duration_ms': 0.01 });
    span.addEvent('task.completed');
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
  }
}

interface Paired {
  readonly median: number;
  readonly values: readonly number[];
}

function paired(
  results: Record<ConfigName, ChildResult[]>,
  name: ConfigName,
  compare: (mine: ChildResult, off: ChildResult) => number,
): Paired {
  const values = results[name].map((mine, round) => compare(mine, results.disabled[round]!));
  return { median: median(values), values };
}

function cpuUs(result: ChildResult): number {
  return (result.cpuMs * 1000) / result.tasks;
}

function heapPerTask(result: ChildResult): number {
  return result.heapBytes / result.activeTasks;
}

function range({ values }: Paired, format: (value: number) => string): string {
  return values.length > 1 ? `${format(Math.min(...values))} .. ${format(Math.max(...values))}` : '';
}

function us(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(2)} µs`;
}

function bytes(value: number): string {
  return Math.abs(value) >= 1024 ? `${(value / 1024).toFixed(2)} KB` : `${Math.round(value)} B`;
}
