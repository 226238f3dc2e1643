import { formatDuration, formatInt, formatMs, formatRate } from './format.ts';
import { printMachine } from './machine.ts';
import { median } from './stats.ts';
import { printTable } from './table.ts';
import type { BenchTarget } from './target.ts';
import type { LatencyResult, ThroughputResult } from './scenarios.ts';

/** A throughput scenario: jobs per second, higher is better. */
export interface ThroughputScenario {
  readonly kind: 'throughput';
  readonly label: string;
  readonly jobs: number;
  /** Jobs per second to reach. */
  readonly target?: number;
  /** A target relative to another scenario of the same run: at most `maxSlowdown` (0.1 = 10 %) slower than its median. */
  readonly relativeTarget?: { readonly baseline: ThroughputScenario; readonly maxSlowdown: number };
  run(): Promise<ThroughputResult>;
}

/** A latency scenario: percentiles in ms, lower is better. */
export interface LatencyScenario {
  readonly kind: 'latency';
  readonly label: string;
  readonly samples: number;
  /** Highest acceptable p50, in ms. */
  readonly targetP50?: number;
  run(): Promise<LatencyResult>;
}

export type Scenario = ThroughputScenario | LatencyScenario;

export interface BenchOptions {
  readonly title: string;
  readonly target: BenchTarget;
  readonly scenarios: readonly Scenario[];
  /** Measured runs of each scenario; the report shows the median. */
  readonly runs: number;
  /** Run once before the scenarios and not counted: small runs that warm the JIT on the hot paths. */
  readonly warmups?: readonly (() => Promise<unknown>)[];
  readonly notes?: readonly string[];
}

interface Outcome {
  readonly scenario: Scenario;
  readonly throughput: ThroughputResult[];
  readonly latency: LatencyResult[];
}

/**
 * Runs every scenario `runs` times, in rounds (progress on stderr), then prints the machine and two tables,
 * throughput and latency, with the median of the runs next to the targets. Returns false if a
 * target was missed.
 */
export async function runBenchmark(options: BenchOptions): Promise<boolean> {
  const started = performance.now();
  const facts = await options.target.facts();
  for (const warmup of options.warmups ?? []) await warmup();
  const outcomes: Outcome[] = options.scenarios.map((scenario) => ({ scenario, throughput: [], latency: [] }));
  // Rounds: each round runs every scenario once. A machine that slows down for a minute (a shared
  // VM) then weighs on one run of every scenario, not on every run of one, and rows stay comparable.
  for (let run = 1; run <= options.runs; run++) {
    for (const outcome of outcomes) {
      const { scenario } = outcome;
      const result = await scenario.run();
      if (scenario.kind === 'throughput') {
        outcome.throughput.push(result as ThroughputResult);
        const { perSecond, jobs, cpuMs } = result as ThroughputResult;
        progress(
          `${scenario.label}: run ${run}/${options.runs}: ${formatRate(perSecond)} (${formatInt((jobs / cpuMs) * 1000)} per CPU-second)`,
        );
      } else {
        const latency = result as LatencyResult;
        outcome.latency.push(latency);
        const offset = latency.clockOffsetMs === undefined ? '' : ` (clock offset ${formatMs(latency.clockOffsetMs)})`;
        progress(`${scenario.label}: run ${run}/${options.runs}: p50 ${formatMs(latency.p50)} p99 ${formatMs(latency.p99)}${offset}`);
      }
    }
  }

  console.log(`\n${options.title}\n`);
  printMachine(facts);
  console.log(
    `  Runs          ${options.runs} per scenario, in rounds of every scenario, each on a fresh database; median shown (all runs in brackets)\n`,
  );

  let allMet = true;
  const verdict = (met: boolean | undefined): string => {
    if (met === undefined) return '';
    if (!met) allMet = false;
    return met ? 'yes' : 'NO';
  };

  const medianRate = (scenario: Scenario): number | undefined => {
    const outcome = outcomes.find((candidate) => candidate.scenario === scenario);
    return outcome && outcome.throughput.length > 0 ? median(outcome.throughput.map((result) => result.perSecond)) : undefined;
  };
  /** The target column and the verdict: absolute, relative to a baseline that ran, or none. */
  const judge = (s: ThroughputScenario, value: number): [string, boolean | undefined] => {
    if (s.target !== undefined) return [`>= ${formatRate(s.target)}`, value >= s.target];
    const relative = s.relativeTarget;
    const baseline = relative && medianRate(relative.baseline);
    if (!relative || baseline === undefined) return ['', undefined];
    const floor = baseline * (1 - relative.maxSlowdown);
    return [
      `>= ${formatRate(floor)} (${Math.round((1 - relative.maxSlowdown) * 100)} % of the row without; ${Math.round((value / baseline) * 100)} %)`,
      value >= floor,
    ];
  };
  const throughputRows = outcomes
    .filter((outcome) => outcome.scenario.kind === 'throughput')
    .map(({ scenario, throughput }) => {
      const s = scenario as ThroughputScenario;
      const rates = throughput.map((result) => result.perSecond);
      const value = median(rates);
      const perCpuSecond = median(throughput.map((result) => (result.jobs / result.cpuMs) * 1000));
      const [targetText, met] = judge(s, value);
      return [
        s.label,
        formatInt(s.jobs),
        formatRate(value),
        rates.length > 1 ? `[${rates.map((rate) => formatInt(rate)).join(', ')}]` : '',
        formatInt(perCpuSecond),
        targetText,
        verdict(met),
      ];
    });
  if (throughputRows.length > 0) {
    printTable(
      [
        'Throughput',
        { title: 'Jobs', align: 'right' },
        { title: 'Jobs/s', align: 'right' },
        'Runs (jobs/s)',
        { title: 'Jobs/CPU-s', align: 'right' },
        'Target',
        'Met',
      ],
      throughputRows,
    );
    console.log();
  }

  const latencyRows = outcomes
    .filter((outcome) => outcome.scenario.kind === 'latency')
    .map(({ scenario, latency }) => {
      const s = scenario as LatencyScenario;
      const at = (key: 'p50' | 'p95' | 'p99' | 'max') => median(latency.map((result) => result[key]));
      const p50 = at('p50');
      return [
        s.label,
        formatInt(s.samples),
        formatMs(p50),
        formatMs(at('p95')),
        formatMs(at('p99')),
        formatMs(at('max')),
        latency.length > 1 ? `[${latency.map((result) => result.p50.toFixed(2)).join(', ')}]` : '',
        s.targetP50 === undefined ? '' : `p50 <= ${formatMs(s.targetP50)}`,
        verdict(s.targetP50 === undefined ? undefined : p50 <= s.targetP50),
      ];
    });
  if (latencyRows.length > 0) {
    printTable(
      [
        'Enqueue-to-start latency (idle worker)',
        { title: 'Samples', align: 'right' },
        { title: 'p50', align: 'right' },
        { title: 'p95', align: 'right' },
        { title: 'p99', align: 'right' },
        { title: 'max', align: 'right' },
        'Runs (p50 ms)',
        'Target',
        'Met',
      ],
      latencyRows,
    );
    console.log();
  }
  for (const note of options.notes ?? []) console.log(`  ${note}`);
  if (throughputRows.length > 0) {
    console.log(
      '  Jobs/CPU-s: jobs per second of CPU time (user + system) of this process; less affected by other load on the machine than Jobs/s.',
    );
  }
  console.log(`  Total time ${formatDuration(performance.now() - started)}; ${allMet ? 'every target met' : 'some targets MISSED'}.`);
  return allMet;
}

function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
