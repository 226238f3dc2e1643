/**
 * What Pilotlight's built-in telemetry (the tracing filter and the metrics, both on by default)
 * costs, on the embedded SQLite store. Four configurations, each in a child process of its own for
 * the whole bench (`fixtures/tracing-worker.ts`, configurations in `lib/tracing-child.ts`):
 *   off                  createWorker/createClient({ tracing: { enabled: false }, metrics: { enabled: false } })
 *   no-sdk               tracing and metrics on (the defaults), nothing registered: the no-op OpenTelemetry API
 *   sdk-traces           tracing on with the real SDK registered globally: TracerProvider + BatchSpanProcessor
 *                        around an exporter that drops every span, AsyncLocalStorageContextManager, W3C
 *                        trace-context and baggage propagators; metrics off (`lib/otel-sdk.ts`)
 *   sdk-traces+metrics   the same, with metrics on and a MeterProvider registered too: a
 *                        PeriodicExportingMetricReader collecting every second (cumulative) into an
 *                        exporter that drops every export; the worker's store gauges read the store each time
 * The children run one at a time, interleaved round by round (the order rotates each round), so a
 * slow spell of a noisy machine hits every configuration alike; comparisons are paired per round.
 * Targets on processing: sdk-traces at >= 85 % of off's jobs/s and <= 15 µs of CPU added per job;
 * sdk-traces+metrics at >= 85 % of off's jobs/s.
 *
 *   node bench/tracing.ts                 full run, 11 rounds (about 2 minutes on 2 cores)
 *   node bench/tracing.ts --quick         small counts, 2 rounds: a smoke test (seconds)
 *   node bench/tracing.ts --rounds 11     more rounds (medians reported)
 *   node bench/tracing.ts --profile DIR   also write a V8 CPU profile per child (DIR/<config>.cpuprofile);
 *                                         the profiler slows everything: do not read the numbers of that run
 *   node bench/tracing.ts --only process  only one scenario: process or enqueue
 *   node bench/tracing.ts --untraced-backlog
 *                                         enqueue the processing backlog with tracing off in every
 *                                         configuration: attempts then find no stored trace context
 *
 * Every comparison is paired against the same round's `off` run. Exits 1 if a target is missed
 * (see TARGETS), 2 on bad arguments.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printProfileDiff, summarizeProfile } from './lib/cpuprofile.ts';
import { formatDuration, formatInt, formatRate } from './lib/format.ts';
import { printMachine } from './lib/machine.ts';
import { METRIC_EXPORT_INTERVAL_MS, otelVersions } from './lib/otel-sdk.ts';
import { sqliteTarget } from './lib/sqlite-target.ts';
import { median } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import {
  BASELINE,
  CONFIG_NAMES,
  CONFIGS,
  TracingChild,
  type ConfigName,
  type ScenarioName,
  type TracingRunResult,
} from './lib/tracing-child.ts';

const TARGETS = {
  /** Processing jobs/s with tracing on and the SDK (`sdk-traces`), as a share of jobs/s with everything off. */
  processingRatio: 0.85,
  /** CPU µs per processed job that tracing with the SDK (`sdk-traces`) adds. */
  processingAddedCpuUs: 15,
  /** Processing jobs/s with tracing and metrics on and the SDK (`sdk-traces+metrics`), as a share of jobs/s with everything off. */
  processingWithMetricsRatio: 0.85,
};
/** The configurations with the SDK registered: their exports are checked, their profiles compared. */
const SDK_CONFIGS = CONFIG_NAMES.filter((name) => CONFIGS[name].tracingSdk || CONFIGS[name].metricsSdk);
const CONCURRENCY = 10;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    profile: { type: 'string' },
    only: { type: 'string' },
    'untraced-backlog': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node bench/tracing.ts [--quick] [--rounds N] [--only process|enqueue] [--profile DIR] [--untraced-backlog]');
  process.exit(0);
}
const quick = values.quick;
const rounds = values.rounds === undefined ? (quick ? 2 : 11) : Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a positive integer; received ${values.rounds}`);
  process.exit(2);
}
const only = values.only as ScenarioName | undefined;
if (only !== undefined && only !== 'process' && only !== 'enqueue') {
  console.error(`--only must be process or enqueue; received ${only}`);
  process.exit(2);
}
const scenarios: readonly ScenarioName[] = only ? [only] : ['process', 'enqueue'];
const untracedBacklog = values['untraced-backlog'];
const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
if (profileDir) mkdirSync(profileDir, { recursive: true });

const counts = quick
  ? { process: 3_000, enqueue: 1_000, warmupProcess: 2_000, warmupEnqueue: 1_000 }
  : { process: 20_000, enqueue: 10_000, warmupProcess: 10_000, warmupEnqueue: 3_000 };

type Results = Record<ConfigName, Record<ScenarioName, TracingRunResult[]>>;

const started = performance.now();
const facts = { ...(await sqliteTarget.facts()), OpenTelemetry: otelVersions() };
const children = CONFIG_NAMES.map((name) => new TracingChild(name, profileDir));
const results = Object.fromEntries(CONFIG_NAMES.map((name) => [name, { process: [], enqueue: [] }])) as unknown as Results;

try {
  await Promise.all(children.map((child) => child.ready()));
  // Warm the JIT of every child on both paths (not counted). One child at a time, like the measurements.
  for (const child of children) {
    if (scenarios.includes('process')) await child.run('process', counts.warmupProcess, { concurrency: CONCURRENCY, untracedBacklog });
    if (scenarios.includes('enqueue')) await child.run('enqueue', counts.warmupEnqueue);
  }
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round: no configuration always runs first (or right after another).
    const order = children.map((_, i) => children[(i + round) % children.length]!);
    for (const scenario of scenarios) {
      for (const child of order) {
        const jobs = counts[scenario];
        const result = await child.run(scenario, jobs, { concurrency: CONCURRENCY, untracedBacklog });
        results[child.name][scenario].push(result);
        progress(
          `round ${round + 1}/${rounds} ${scenario} ${child.name}: ${formatRate(result.perSecond)}, ${cpuUs(result).toFixed(1)} CPU µs/job, ${result.spans} spans, ${result.counted} jobs counted by the metrics`,
        );
      }
    }
  }
} catch (error) {
  for (const child of children) child.kill();
  throw error;
}
await Promise.all(children.map((child) => child.stop()));

console.log(`\nPilotlight tracing and metrics overhead: ${sqliteTarget.name} store${quick ? ' (--quick)' : ''}\n`);
printMachine(facts);
console.log(`  Rounds        ${rounds}; each runs every configuration once, in rotating order, each on a fresh database; medians shown\n`);

let allMet = true;
let checked = 0;
const verdict = (met: boolean): string => {
  checked++;
  if (!met) allMet = false;
  return met ? 'yes' : 'NO';
};

if (scenarios.includes('process')) {
  printConfigTable(`Processing ${formatInt(counts.process)} no-op jobs, 1 worker, concurrency ${CONCURRENCY}`, 'process', 'CPU µs/job');
}
if (scenarios.includes('enqueue'))
  printConfigTable(`Enqueue ${formatInt(counts.enqueue)} jobs one at a time (await enqueue)`, 'enqueue', 'CPU µs/enqueue');

const rows: string[][] = [];
if (scenarios.includes('process')) {
  const ratio = paired('process', 'sdk-traces', (mine, off) => mine.perSecond / off.perSecond);
  const cpuRatio = paired('process', 'sdk-traces', (mine, off) => cpuUs(off) / cpuUs(mine));
  const added = paired('process', 'sdk-traces', (mine, off) => cpuUs(mine) - cpuUs(off));
  const withMetrics = paired('process', 'sdk-traces+metrics', (mine, off) => mine.perSecond / off.perSecond);
  const withMetricsCpuRatio = paired('process', 'sdk-traces+metrics', (mine, off) => cpuUs(off) / cpuUs(mine));
  const withMetricsAdded = paired('process', 'sdk-traces+metrics', (mine, off) => cpuUs(mine) - cpuUs(off));
  const metricsAdded = pairedBetween('process', 'sdk-traces+metrics', 'sdk-traces', (mine, traces) => cpuUs(mine) - cpuUs(traces));
  const noSdkRate = paired('process', 'no-sdk', (mine, off) => mine.perSecond / off.perSecond - 1);
  const noSdkCpu = paired('process', 'no-sdk', (mine, off) => cpuUs(mine) - cpuUs(off));
  const offSpread = spread(results[BASELINE].process.map((result) => result.perSecond));
  const offCpuSpread = spread(results[BASELINE].process.map(cpuUs));
  rows.push(
    [
      'Processing jobs/s, SDK traces / off',
      pct(ratio.median),
      range(ratio, pct),
      `>= ${pct(TARGETS.processingRatio)}`,
      verdict(ratio.median >= TARGETS.processingRatio),
    ],
    ['  same, from CPU time (jobs per CPU-s)', pct(cpuRatio.median), range(cpuRatio, pct), '(cross-check, steadier)', ''],
    [
      'Processing CPU added, SDK traces',
      us(added.median),
      range(added, us),
      `<= ${TARGETS.processingAddedCpuUs} µs/job`,
      verdict(added.median <= TARGETS.processingAddedCpuUs),
    ],
    [
      'Processing jobs/s, SDK traces + metrics / off',
      pct(withMetrics.median),
      range(withMetrics, pct),
      `>= ${pct(TARGETS.processingWithMetricsRatio)}`,
      verdict(withMetrics.median >= TARGETS.processingWithMetricsRatio),
    ],
    [
      '  same, from CPU time (jobs per CPU-s)',
      pct(withMetricsCpuRatio.median),
      range(withMetricsCpuRatio, pct),
      '(cross-check, steadier)',
      '',
    ],
    ['Processing CPU added, SDK traces + metrics', us(withMetricsAdded.median), range(withMetricsAdded, us), '', ''],
    ['  of which metrics (vs SDK traces)', us(metricsAdded.median), range(metricsAdded, us), '', noise(metricsAdded)],
    [
      'Processing jobs/s, no SDK vs off',
      signedPct(noSdkRate.median),
      range(noSdkRate, signedPct),
      `off's own spread ${pct(offSpread)}`,
      noise(noSdkRate),
    ],
    ['Processing CPU added, no SDK', us(noSdkCpu.median), range(noSdkCpu, us), `off's own spread ${pct(offCpuSpread)}`, noise(noSdkCpu)],
  );
}
if (scenarios.includes('enqueue')) {
  const ratio = paired('enqueue', 'sdk-traces', (mine, off) => mine.perSecond / off.perSecond);
  const added = paired('enqueue', 'sdk-traces', (mine, off) => cpuUs(mine) - cpuUs(off));
  const withMetrics = paired('enqueue', 'sdk-traces+metrics', (mine, off) => mine.perSecond / off.perSecond);
  const withMetricsAdded = paired('enqueue', 'sdk-traces+metrics', (mine, off) => cpuUs(mine) - cpuUs(off));
  const noSdkCpu = paired('enqueue', 'no-sdk', (mine, off) => cpuUs(mine) - cpuUs(off));
  const offCpuSpread = spread(results[BASELINE].enqueue.map(cpuUs));
  rows.push(
    ['Enqueue jobs/s, SDK traces / off', pct(ratio.median), range(ratio, pct), '', ''],
    ['Enqueue CPU added, SDK traces', us(added.median), range(added, us), '', ''],
    ['Enqueue jobs/s, SDK traces + metrics / off', pct(withMetrics.median), range(withMetrics, pct), '', ''],
    ['Enqueue CPU added, SDK traces + metrics', us(withMetricsAdded.median), range(withMetricsAdded, us), '', ''],
    ['Enqueue CPU added, no SDK', us(noSdkCpu.median), range(noSdkCpu, us), `off's own spread ${pct(offCpuSpread)}`, noise(noSdkCpu)],
  );
}
printTable(
  ['Telemetry vs off (paired per round)', { title: 'Median', align: 'right' }, 'Rounds: min .. max', 'Target / noise', 'Met'],
  rows,
);
console.log();

const tracingSdkConfigs = CONFIG_NAMES.filter((name) => CONFIGS[name].tracingSdk);
const metricsSdkConfigs = CONFIG_NAMES.filter((name) => CONFIGS[name].metricsSdk);
const perJob = (name: ConfigName, scenario: ScenarioName, count: (result: TracingRunResult) => number) =>
  median(results[name][scenario].map((result) => count(result) / result.jobs)).toFixed(2);
// Every SDK run must have exported one span per job (a CONSUMER span per attempt, a PRODUCER span per enqueue)
// and, with metrics, counted each job once (attempts started, jobs created): fewer would mean the SDK was not
// recording (or dropped data), and the comparison would flatter the telemetry.
const suspect = [
  ...tracingSdkConfigs.flatMap((name) =>
    scenarios
      .filter((scenario) => results[name][scenario].some((result) => result.spans !== result.jobs))
      .map((scenario) => `${name} ${scenario} (spans)`),
  ),
  ...metricsSdkConfigs.flatMap((name) =>
    scenarios
      .filter((scenario) => results[name][scenario].some((result) => result.counted !== result.jobs))
      .map((scenario) => `${name} ${scenario} (metrics)`),
  ),
];
/** Median periodic metric exports during one timed run of `scenario`, and the median run's length. */
const exportsPerRun = (name: ConfigName, scenario: ScenarioName) =>
  `${scenario} ${median(results[name][scenario].map((result) => result.metricExports))} (runs of ${formatDuration(median(results[name][scenario].map((result) => result.ms)))})`;
const notes = [
  ...(scenarios.includes('process')
    ? [
        `Processing: timed from worker.start() to the last job's onPerformed; the backlog is enqueued before the clock starts, ${
          untracedBacklog
            ? 'with tracing OFF in every configuration (--untraced-backlog): attempts find no stored trace context, their spans start new traces'
            : "by a client with the configuration's own tracing: with the SDK each job stores its creation span's W3C context, so each attempt span is a child of, and links to, it"
        }. The creation spans and metrics are exported before the clock starts.`,
      ]
    : []),
  ...(scenarios.includes('enqueue')
    ? [
        `Enqueue: ${formatInt(counts.enqueue)} sequential client.enqueue() calls on a fresh database; with tracing, each makes a PRODUCER span and injects its context into the job's metadata; with metrics, each adds to messaging.client.sent.messages.`,
      ]
    : []),
  `Metrics: every Pilotlight instrument on the worker and client (counters, duration histograms, the worker's slot gauges and its store gauges, whose callback reads queueStats() and listServers() once a collection); the SDK collects them every ${METRIC_EXPORT_INTERVAL_MS / 1000} s (60 times as often as OTEL_METRIC_EXPORT_INTERVAL's default), periodic exports during a timed run (median): ${scenarios.map((scenario) => exportsPerRun('sdk-traces+metrics', scenario)).join(', ')}.`,
  `CPU: process.cpuUsage() (user + system) of the configuration's child process over the timed part, every thread of it (main, GC, SQLite checkpoint), per job.`,
  `Paired: each round's run against the same round's off run, then the median over rounds; spread = (max - min) / median over rounds.`,
  `Noise verdict: "within noise" when the paired differences change sign across rounds; "consistent" when every round has the same sign (sign test).`,
  `Spans exported per job: ${tracingSdkConfigs.flatMap((name) => scenarios.map((scenario) => `${name} ${scenario} ${perJob(name, scenario, (r) => r.spans)}`)).join(', ')}; jobs counted by the metrics per job: ${metricsSdkConfigs.flatMap((name) => scenarios.map((scenario) => `${name} ${scenario} ${perJob(name, scenario, (r) => r.counted)}`)).join(', ')} (1.00 expected: everything reaches the exporters, nothing dropped).`,
  ...(suspect.length > 0
    ? [`WARNING: some SDK runs did not record exactly one per job: ${suspect.join(', ')}; their numbers are suspect.`]
    : []),
  ...(profileDir ? [`CPU profiles (the profiler inflates every number above): ${profileDir}/<configuration>.cpuprofile`] : []),
];
for (const note of notes) console.log(`  ${note}`);
if (profileDir) printProfiles(profileDir);
const outcome = checked === 0 ? 'no target in this selection' : allMet ? 'every target met' : 'some targets MISSED';
console.log(`  Total time ${formatDuration(performance.now() - started)}; ${outcome}.`);
process.exitCode = allMet ? 0 : 1;

/** Where each SDK child's extra CPU time goes, from its profile and the off child's (same work in both). */
function printProfiles(dir: string): void {
  const processed = scenarios.includes('process') ? counts.warmupProcess + rounds * counts.process : 0;
  const created = processed + (scenarios.includes('enqueue') ? counts.warmupEnqueue + rounds * counts.enqueue : 0);
  const off = summarizeProfile(join(dir, `${BASELINE}.cpuprofile`));
  for (const name of SDK_CONFIGS) {
    const sdk = summarizeProfile(join(dir, `${name}.cpuprofile`));
    console.log(`\nCPU profiles, ${name} child minus ${BASELINE} child (self time; the profiler's own overhead inflates both)\n`);
    if (processed > 0)
      printProfileDiff(`Worker side (attempts, plus GC and V8 buckets), per processed job`, off.worker, sdk.worker, processed);
    printProfileDiff(
      `Client side (creating jobs${processed > 0 ? ', the backlogs included' : ''}), per created job`,
      off.client,
      sdk.client,
      created,
    );
  }
}

function printConfigTable(title: string, scenario: ScenarioName, cpuTitle: string): void {
  const rows = CONFIG_NAMES.map((name) => {
    const runs = results[name][scenario];
    const rates = runs.map((result) => result.perSecond);
    const cpu = runs.map(cpuUs);
    const vsOff = name === BASELINE ? undefined : paired(scenario, name, (mine, off) => mine.perSecond / off.perSecond);
    const cpuVsOff = name === BASELINE ? undefined : paired(scenario, name, (mine, off) => cpuUs(mine) - cpuUs(off));
    return [
      CONFIGS[name].label,
      formatRate(median(rates)),
      rates.length > 1 ? `[${rates.map(formatInt).join(', ')}]` : '',
      rates.length > 1 ? pct(spread(rates)) : '',
      median(cpu).toFixed(1),
      cpu.length > 1 ? `[${cpu.map((value) => value.toFixed(1)).join(', ')}]` : '',
      vsOff ? pct(vsOff.median) : '',
      cpuVsOff ? us(cpuVsOff.median) : '',
    ];
  });
  printTable(
    [
      title,
      { title: 'Jobs/s', align: 'right' },
      'Rounds (jobs/s)',
      { title: 'Spread', align: 'right' },
      { title: cpuTitle, align: 'right' },
      'Rounds (CPU µs)',
      { title: 'Jobs/s vs off', align: 'right' },
      { title: 'CPU vs off', align: 'right' },
    ],
    rows,
  );
  console.log();
}

interface Paired {
  readonly median: number;
  readonly values: readonly number[];
}

/** `compare(config's run, off's run)` for each round, and its median. */
function paired(scenario: ScenarioName, name: ConfigName, compare: (mine: TracingRunResult, off: TracingRunResult) => number): Paired {
  return pairedBetween(scenario, name, BASELINE, compare);
}

/** `compare(config's run, other's run)` for each round, and its median. */
function pairedBetween(
  scenario: ScenarioName,
  name: ConfigName,
  other: ConfigName,
  compare: (mine: TracingRunResult, theirs: TracingRunResult) => number,
): Paired {
  const theirs = results[other][scenario];
  const values = results[name][scenario].map((mine, round) => compare(mine, theirs[round]!));
  return { median: median(values), values };
}

function cpuUs(result: TracingRunResult): number {
  return (result.cpuMs * 1000) / result.jobs;
}

function spread(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

function noise({ values }: Paired): string {
  if (values.length < 2) return '';
  const above = values.filter((value) => value > 0).length;
  if (above > 0 && above < values.length) return 'within noise';
  return `consistent (${values.length}/${values.length} ${above > 0 ? 'above' : 'below'})`;
}

function range({ values }: Paired, format: (value: number) => string): string {
  return values.length > 1 ? `${format(Math.min(...values))} .. ${format(Math.max(...values))}` : '';
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}

function signedPct(value: number): string {
  return `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`;
}

function us(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)} µs`;
}

function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
