/**
 * What Pilotlight's built-in tracing (the tracing filter, on by default) costs, on the embedded
 * SQLite store. Three configurations, each in a child process of its own for the whole bench
 * (`fixtures/tracing-worker.ts`):
 *   disabled   createWorker/createClient({ tracing: { enabled: false } })
 *   no-sdk     tracing on (the default), nothing registered: the no-op OpenTelemetry API
 *   sdk        tracing on, with the real SDK registered globally: TracerProvider + BatchSpanProcessor
 *              around an exporter that drops every span, AsyncLocalStorageContextManager, W3C
 *              trace-context and baggage propagators (`lib/otel-sdk.ts`)
 * The children run one at a time, interleaved round by round (the order rotates each round), so a
 * slow spell of a noisy machine hits every configuration alike; comparisons are paired per round.
 *
 *   node bench/tracing.ts                 full run, 11 rounds (about 1.5 minutes on 2 cores)
 *   node bench/tracing.ts --quick         small counts, 2 rounds: a smoke test (seconds)
 *   node bench/tracing.ts --rounds 11     more rounds (medians reported)
 *   node bench/tracing.ts --profile DIR   also write a V8 CPU profile per child (DIR/<config>.cpuprofile);
 *                                         the profiler slows everything: do not read the numbers of that run
 *   node bench/tracing.ts --only process  only one scenario: process or enqueue
 *   node bench/tracing.ts --untraced-backlog
 *                                         enqueue the processing backlog with tracing off in every
 *                                         configuration: attempts then find no stored trace context
 *
 * Exits 1 if a target is missed (see TARGETS), 2 on bad arguments.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printProfileDiff, summarizeProfile } from './lib/cpuprofile.ts';
import { formatDuration, formatInt, formatRate } from './lib/format.ts';
import { printMachine } from './lib/machine.ts';
import { otelVersions } from './lib/otel-sdk.ts';
import { sqliteTarget } from './lib/sqlite-target.ts';
import { median } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import { CONFIG_NAMES, CONFIGS, TracingChild, type ConfigName, type ScenarioName, type TracingRunResult } from './lib/tracing-child.ts';

const TARGETS = {
  /** Processing jobs/s with the SDK, as a share of jobs/s with tracing disabled. */
  processingRatio: 0.85,
  /** CPU µs per processed job that tracing with the SDK adds. */
  processingAddedCpuUs: 15,
};
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
          `round ${round + 1}/${rounds} ${scenario} ${child.name}: ${formatRate(result.perSecond)}, ${cpuUs(result).toFixed(1)} CPU µs/job, ${result.spans} spans`,
        );
      }
    }
  }
} catch (error) {
  for (const child of children) child.kill();
  throw error;
}
await Promise.all(children.map((child) => child.stop()));

console.log(`\nPilotlight tracing overhead: ${sqliteTarget.name} store${quick ? ' (--quick)' : ''}\n`);
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
  const ratio = paired('process', 'sdk', (sdk, off) => sdk.perSecond / off.perSecond);
  const cpuRatio = paired('process', 'sdk', (sdk, off) => cpuUs(off) / cpuUs(sdk));
  const added = paired('process', 'sdk', (sdk, off) => cpuUs(sdk) - cpuUs(off));
  const noSdkRate = paired('process', 'no-sdk', (api, off) => api.perSecond / off.perSecond - 1);
  const noSdkCpu = paired('process', 'no-sdk', (api, off) => cpuUs(api) - cpuUs(off));
  const offSpread = spread(results.disabled.process.map((result) => result.perSecond));
  const offCpuSpread = spread(results.disabled.process.map(cpuUs));
  rows.push(
    [
      'Processing jobs/s, SDK / disabled',
      pct(ratio.median),
      range(ratio, pct),
      `>= ${pct(TARGETS.processingRatio)}`,
      verdict(ratio.median >= TARGETS.processingRatio),
    ],
    ['  same, from CPU time (jobs per CPU-s)', pct(cpuRatio.median), range(cpuRatio, pct), '(cross-check, steadier)', ''],
    [
      'Processing CPU added, SDK',
      us(added.median),
      range(added, us),
      `<= ${TARGETS.processingAddedCpuUs} µs/job`,
      verdict(added.median <= TARGETS.processingAddedCpuUs),
    ],
    [
      'Processing jobs/s, no SDK vs disabled',
      signedPct(noSdkRate.median),
      range(noSdkRate, signedPct),
      `disabled's own spread ${pct(offSpread)}`,
      noise(noSdkRate),
    ],
    [
      'Processing CPU added, no SDK',
      us(noSdkCpu.median),
      range(noSdkCpu, us),
      `disabled's own spread ${pct(offCpuSpread)}`,
      noise(noSdkCpu),
    ],
  );
}
if (scenarios.includes('enqueue')) {
  const ratio = paired('enqueue', 'sdk', (sdk, off) => sdk.perSecond / off.perSecond);
  const added = paired('enqueue', 'sdk', (sdk, off) => cpuUs(sdk) - cpuUs(off));
  const noSdkCpu = paired('enqueue', 'no-sdk', (api, off) => cpuUs(api) - cpuUs(off));
  const offCpuSpread = spread(results.disabled.enqueue.map(cpuUs));
  rows.push(
    ['Enqueue jobs/s, SDK / disabled', pct(ratio.median), range(ratio, pct), '', ''],
    ['Enqueue CPU added, SDK', us(added.median), range(added, us), '', ''],
    ['Enqueue CPU added, no SDK', us(noSdkCpu.median), range(noSdkCpu, us), `disabled's own spread ${pct(offCpuSpread)}`, noise(noSdkCpu)],
  );
}
printTable(
  ['Tracing vs disabled (paired per round)', { title: 'Median', align: 'right' }, 'Rounds: min .. max', 'Target / noise', 'Met'],
  rows,
);
console.log();

const spansPerJob = (scenario: ScenarioName) => median(results.sdk[scenario].map((result) => result.spans / result.jobs)).toFixed(2);
// Every SDK run must have exported one span per job (a CONSUMER span per attempt, a PRODUCER span per enqueue):
// fewer would mean the SDK was not tracing (or dropped spans), and the comparison would flatter tracing.
const untraced = scenarios.filter((scenario) => results.sdk[scenario].some((result) => result.spans !== result.jobs));
const notes = [
  ...(scenarios.includes('process')
    ? [
        `Processing: timed from worker.start() to the last job's onPerformed; the backlog is enqueued before the clock starts, ${
          untracedBacklog
            ? 'with tracing OFF in every configuration (--untraced-backlog): attempts find no stored trace context, their spans start new traces'
            : "by a client with the configuration's own tracing: with the SDK each job stores its creation span's W3C context, so each attempt span is a child of, and links to, it"
        }. The creation spans are exported before the clock starts.`,
      ]
    : []),
  ...(scenarios.includes('enqueue')
    ? [
        `Enqueue: ${formatInt(counts.enqueue)} sequential client.enqueue() calls on a fresh database; with tracing, each makes a PRODUCER span and injects its context into the job's metadata.`,
      ]
    : []),
  `CPU: process.cpuUsage() (user + system) of the configuration's child process over the timed part, every thread of it (main, GC, SQLite checkpoint), per job.`,
  `Paired: each round's traced run against the same round's disabled run, then the median over rounds; spread = (max - min) / median over rounds.`,
  `Noise verdict: "within noise" when the paired differences change sign across rounds; "consistent" when every round has the same sign (sign test).`,
  `SDK spans exported per job: ${scenarios.map((scenario) => `${scenario} ${spansPerJob(scenario)}`).join(', ')} (1.00 expected: every span reaches the exporter, none dropped).`,
  ...(untraced.length > 0
    ? [`WARNING: some SDK runs of ${untraced.join(', ')} did not export exactly one span per job; their numbers are suspect.`]
    : []),
  ...(profileDir ? [`CPU profiles (the profiler inflates every number above): ${profileDir}/<configuration>.cpuprofile`] : []),
];
for (const note of notes) console.log(`  ${note}`);
if (profileDir) printProfiles(profileDir);
const outcome = checked === 0 ? 'no target in this selection' : allMet ? 'every target met' : 'some targets MISSED';
console.log(`  Total time ${formatDuration(performance.now() - started)}; ${outcome}.`);
process.exitCode = allMet ? 0 : 1;

/** Where the SDK child's extra CPU time goes, from the profiles of the sdk and disabled children (same work in both). */
function printProfiles(dir: string): void {
  const processed = scenarios.includes('process') ? counts.warmupProcess + rounds * counts.process : 0;
  const created = processed + (scenarios.includes('enqueue') ? counts.warmupEnqueue + rounds * counts.enqueue : 0);
  const off = summarizeProfile(join(dir, 'disabled.cpuprofile'));
  const sdk = summarizeProfile(join(dir, 'sdk.cpuprofile'));
  console.log(`\nCPU profiles, SDK child minus disabled child (self time; the profiler's own overhead inflates both)\n`);
  if (processed > 0)
    printProfileDiff(`Worker side (attempts, plus GC and V8 buckets), per processed job`, off.worker, sdk.worker, processed);
  printProfileDiff(
    `Client side (creating jobs${processed > 0 ? ', the backlogs included' : ''}), per created job`,
    off.client,
    sdk.client,
    created,
  );
}

function printConfigTable(title: string, scenario: ScenarioName, cpuTitle: string): void {
  const rows = CONFIG_NAMES.map((name) => {
    const runs = results[name][scenario];
    const rates = runs.map((result) => result.perSecond);
    const cpu = runs.map(cpuUs);
    const vsOff = name === 'disabled' ? undefined : paired(scenario, name, (mine, off) => mine.perSecond / off.perSecond);
    const cpuVsOff = name === 'disabled' ? undefined : paired(scenario, name, (mine, off) => cpuUs(mine) - cpuUs(off));
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
      { title: 'Jobs/s vs disabled', align: 'right' },
      { title: 'CPU vs disabled', align: 'right' },
    ],
    rows,
  );
  console.log();
}

interface Paired {
  readonly median: number;
  readonly values: readonly number[];
}

/** `compare(config's run, disabled's run)` for each round, and its median. */
function paired(scenario: ScenarioName, name: ConfigName, compare: (mine: TracingRunResult, off: TracingRunResult) => number): Paired {
  const off = results.disabled[scenario];
  const values = results[name][scenario].map((mine, round) => compare(mine, off[round]!));
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
