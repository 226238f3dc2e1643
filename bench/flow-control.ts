/**
 * What flow control costs, on both stores in the same run. Three configurations, each in a child
 * process of its own for the whole bench (`lib/flow-bench-child.ts`), all running the same scenario
 * (`processUntilDone()` in `lib/flow-scenarios.ts`: one worker at concurrency 10 works off a backlog
 * of no-op jobs, timed from `worker.start()` until the store shows every job Succeeded):
 *   baseline   jobs without any flow-control option, on the code of the baseline revision (a git
 *              worktree of it in a temporary directory, removed at the end)
 *   plain      the same jobs on this checkout
 *   keys       this checkout, every job with a concurrency key of limit 1, 1,000 distinct keys
 *              spread over the jobs round-robin
 * The children run one at a time, interleaved round by round (the order rotates each round), so a
 * slow spell of a noisy machine hits every configuration alike; comparisons are paired per round.
 * Targets, on each store: keys >= 80 % of plain's jobs/s; plain >= 95 % of baseline's jobs/s
 * (jobs without flow control lose nothing measurable).
 *
 *   node bench/flow-control.ts                 full run, 20,000 jobs, 7 rounds
 *   node bench/flow-control.ts --quick         2,000 jobs, 2 rounds: a smoke test
 *   node bench/flow-control.ts --rounds 7      more rounds (medians reported)
 *   node bench/flow-control.ts --baseline REV  another baseline revision (default below)
 *   node bench/flow-control.ts --only sqlite   one store: sqlite or postgres
 *
 * PostgreSQL: PILOTLIGHT_BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 * Exits 1 if a target is missed, 2 on bad arguments.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FlowChild, type StoreName } from './lib/flow-child.ts';
import type { BacklogRun } from './lib/flow-scenarios.ts';
import { addBaselineWorktree, type BaselineTree } from './lib/flow-worktree.ts';
import { formatDuration, formatInt, formatRate } from './lib/format.ts';
import { printMachine } from './lib/machine.ts';
import { postgresTarget } from './lib/postgres-target.ts';
import type { ThroughputResult } from './lib/scenarios.ts';
import { sqliteTarget } from './lib/sqlite-target.ts';
import { median } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

/**
 * The code before flow control: the parent of 59242d4, the commit where the Store interface gained
 * the flow-control records (every store and engine change for flow control came after it).
 * `--baseline 7e29d1f` measures against the code before the metrics work too.
 */
const DEFAULT_BASELINE = 'd1d6c58';
const CONCURRENCY = 10;
const KEYS = 1_000;

const TARGETS = {
  /** keys' jobs/s as a share of plain's. */
  keysRatio: 0.8,
  /** plain's jobs/s as a share of the baseline's. */
  plainRatio: 0.95,
};

const CONFIGS = ['baseline', 'plain', 'keys'] as const;
type ConfigName = (typeof CONFIGS)[number];
const LABELS: Record<ConfigName, string> = {
  baseline: 'baseline revision, no flow-control option',
  plain: 'this checkout, no flow-control option',
  keys: `this checkout, ${KEYS.toLocaleString('en-US')} concurrency keys (limit 1)`,
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    baseline: { type: 'string', default: DEFAULT_BASELINE },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node bench/flow-control.ts [--quick] [--rounds N] [--baseline REV] [--only sqlite|postgres]');
  process.exit(0);
}
const quick = values.quick;
const rounds = values.rounds === undefined ? (quick ? 2 : 7) : Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a positive integer; received ${values.rounds}`);
  process.exit(2);
}
if (values.only !== undefined && values.only !== 'sqlite' && values.only !== 'postgres') {
  console.error(`--only must be sqlite or postgres; received ${values.only}`);
  process.exit(2);
}
const stores: readonly StoreName[] = values.only ? [values.only as StoreName] : ['sqlite', 'postgres'];
const STORE_LABELS: Record<StoreName, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const jobs = quick ? 2_000 : 20_000;
const runOf = (config: ConfigName, count = jobs): BacklogRun => ({
  jobs: count,
  concurrency: CONCURRENCY,
  keys: config === 'keys' ? KEYS : 0,
});

const started = performance.now();
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const facts = {
  ...(stores.includes('sqlite') ? await sqliteTarget.facts() : {}),
  ...(stores.includes('postgres') ? await postgresTarget.facts() : {}),
};
let baseline: BaselineTree | undefined;
const children: FlowChild[] = [];
const results = Object.fromEntries(
  stores.map((store) => [store, Object.fromEntries(CONFIGS.map((config) => [config, [] as ThroughputResult[]]))]),
) as Record<StoreName, Record<ConfigName, ThroughputResult[]>>;

// Interrupted (Ctrl-C), the run still removes the worktree it added; the children exit with their IPC channel.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (baseline?.remove() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

try {
  baseline = await addBaselineWorktree(repoRoot, values.baseline);
  const checkouts: Record<ConfigName, string> = { baseline: baseline.root, plain: repoRoot, keys: repoRoot };
  for (const config of CONFIGS) children.push(new FlowChild(config, checkouts[config]));
  await Promise.all(children.map((child) => child.ready()));
  // Warm every child's JIT on each store (not counted), one child at a time like the measurements.
  for (const store of stores) for (const child of children) await child.run(store, runOf(child.name as ConfigName, 2_000));
  for (let round = 0; round < rounds; round++) {
    for (const store of stores) {
      // Rotate the order each round: no configuration always runs first (or right after another).
      const order = children.map((_, i) => children[(i + round) % children.length]!);
      for (const child of order) {
        const config = child.name as ConfigName;
        const result = await child.run(store, runOf(config));
        results[store][config].push(result);
        progress(`round ${round + 1}/${rounds} ${STORE_LABELS[store]} ${config}: ${formatRate(result.perSecond)}`);
      }
    }
  }
} finally {
  await Promise.all(children.map((child) => child.stop()));
  await baseline?.remove();
}

console.log(`\nPilotlight benchmark: flow control${quick ? ' (--quick)' : ''}\n`);
printMachine({ ...facts, Baseline: `${baseline!.description} (git worktree, removed after the run)` });
console.log(
  `  Runs          ${rounds} rounds of every configuration on each store, in a rotating order, each on a fresh database; median shown (min-max in brackets)\n`,
);

const range = (values: readonly number[], format: (value: number) => string): string =>
  values.length > 1 ? `[${format(Math.min(...values))} - ${format(Math.max(...values))}]` : '';
const rate = (result: ThroughputResult) => result.perSecond;
const perCpuSecond = (result: ThroughputResult) => (result.jobs / result.cpuMs) * 1000;

printTable(
  [
    'Store',
    'Configuration',
    { title: 'Jobs', align: 'right' },
    { title: 'Jobs/s', align: 'right' },
    'Runs (min - max)',
    { title: 'Jobs/CPU-s', align: 'right' },
  ],
  stores.flatMap((store) =>
    CONFIGS.map((config) => {
      const runs = results[store][config];
      return [
        STORE_LABELS[store],
        LABELS[config],
        formatInt(jobs),
        formatRate(median(runs.map(rate))),
        range(runs.map(rate), formatInt),
        formatInt(median(runs.map(perCpuSecond))),
      ];
    }),
  ),
);
console.log();

let allMet = true;
const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
/** The per-round ratios of `of`'s `measure` to `to`'s (paired: the same round, one right after the other). */
const ratios = (store: StoreName, of: ConfigName, to: ConfigName, measure: (result: ThroughputResult) => number) =>
  results[store][of].map((result, round) => measure(result) / measure(results[store][to][round]!));
const comparisons: [ConfigName, ConfigName, number, string][] = [
  ['keys', 'plain', TARGETS.keysRatio, `${KEYS.toLocaleString('en-US')} concurrency keys vs none`],
  ['plain', 'baseline', TARGETS.plainRatio, 'no option: this checkout vs the baseline'],
];
printTable(
  [
    'Store',
    'Comparison (paired per round)',
    { title: 'Jobs/s ratio', align: 'right' },
    'Rounds (min - max)',
    'Target',
    'Met',
    { title: 'Jobs/CPU-s ratio', align: 'right' },
  ],
  stores.flatMap((store) =>
    comparisons.map(([of, to, target, label]) => {
      const paired = ratios(store, of, to, rate);
      const ratio = median(paired);
      const met = ratio >= target;
      if (!met) allMet = false;
      return [
        STORE_LABELS[store],
        label,
        percent(ratio),
        range(paired, percent),
        `>= ${percent(target)}`,
        met ? 'yes' : 'NO',
        percent(median(ratios(store, of, to, perCpuSecond))),
      ];
    }),
  ),
);
console.log();
console.log(
  `  Processing: 1 worker, concurrency ${CONCURRENCY}, no-op jobs enqueued beforehand (untimed); timed from worker.start() until countJobs() shows all of them Succeeded (asked once a filter saw the last attempt performed).`,
);
console.log("  Ratio: the median of the rounds' ratios, each between two runs of the same round.");
console.log(
  "  Jobs/CPU-s: jobs per second of CPU time (user + system) of the child process that ran the worker (not the PostgreSQL server's); less affected by other load on the machine than Jobs/s, not judged.",
);
console.log(`  Total time ${formatDuration(performance.now() - started)}; ${allMet ? 'every target met' : 'some targets MISSED'}.`);
process.exitCode = allMet ? 0 : 1;

function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
