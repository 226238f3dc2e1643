/**
 * The dashboard's trace receiver and trace pages, on SQLite and on PostgreSQL trace stores:
 *
 * 1. Ingest: a receiver (createDashboard({ store, traces: { store } }) on node:http) runs in a child
 *    process of its own (lib/trace-receiver-child.ts); this process is the load generator: real SDK
 *    spans shaped like a worker's job attempts (lib/trace-batches.ts), serialized by the protobuf
 *    exporter's serializer into distinct bodies of 512 spans BEFORE the clock starts, POSTed by 4
 *    concurrent exporters over keep-alive HTTP, 429s retried after their Retry-After. The clock stops
 *    when the receiver's trace store counts every span. Target: >= 20,000 spans/s.
 * 2. Job processing beside it: the tracing bench's `off` worker child (no-op jobs, one worker at
 *    concurrency 10, a fresh SQLite job database each run, tracing and metrics off) works off a backlog, alone
 *    (A: the receiver up but idle) and while the generator streams 20,000 spans/s into the receiver
 *    (B), and, as a control, beside a tight loop burning as much CPU as the receiver used in B (C:
 *    what the CPU time alone costs the worker, without the receiver's memory and cache traffic),
 *    interleaved A/B/C; worker, receiver and generator are three processes, as in a deployment, on
 *    one machine. Target: B's median jobs/s at most 10 % below A's.
 * 3. Trace pages with 1,000,000 spans (~50,000 traces: job traces with retries, tasks, HTTP requests,
 *    several services; lib/trace-seed.ts) written through store.write(), and jobs whose traceparent
 *    points at seeded traces; pages requested over real HTTP from this process, one at a time.
 *    Target: p95 <= 50 ms for a trace's page and a job's page; the other pages are reported.
 *
 *   node bench/traces.ts                          both stores, every part
 *   node bench/traces.ts --store sqlite --only ingest,jobs
 *   node bench/traces.ts --spans 200000 --requests 50
 *   node bench/traces.ts --fresh                  seed the pages' stores again
 *   node bench/traces.ts --profile DIR            also write the receiver child's V8 CPU profile
 *                                                 (DIR/receiver-<store>.cpuprofile) and print where its
 *                                                 time went; the profiler slows it: not a run to quote
 *
 * The seeded stores are kept (SQLite: files in the temporary folder; PostgreSQL: the schema
 * pilotlight_bench_traces_<spans>) for the next run; the ingest stores are fresh each run. PostgreSQL:
 * PILOTLIGHT_BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 * Exits 1 if a target is missed, 2 on bad arguments.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDuration, formatInt, formatMs, formatRate } from './lib/format.ts';
import { printMachine } from './lib/machine.ts';
import { median, summarize } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import { BATCH_SPANS, buildBatches } from './lib/trace-batches.ts';
import { measureIngest, measureJobs, progress, type JobsResult } from './lib/trace-ingest.ts';
import { measurePages, PAGE_TARGET_MS } from './lib/trace-pages.ts';
import { printReceiverProfile } from './lib/trace-profile.ts';
import { ReceiverChild } from './lib/trace-receiver.ts';
import { createTraceDatabase, traceStoreFacts, type TraceStoreKind } from './lib/trace-stores.ts';

const TARGETS = { spansPerSecond: 20_000, maxSlowdown: 0.1 };
const EXPORTERS = 4;
const PARTS = ['ingest', 'jobs', 'pages'] as const;
type Part = (typeof PARTS)[number];

const usage =
  'usage: node bench/traces.ts [--store sqlite|postgres|both] [--only ingest,jobs,pages] [--ingest-spans N] [--jobs N] [--rounds N] [--spans N (>= 10000)] [--requests N] [--fresh] [--profile DIR]';
let args: {
  store: string;
  only: string;
  'ingest-spans': string;
  jobs: string;
  rounds: string;
  spans: string;
  requests: string;
  fresh: boolean;
  profile?: string;
};
try {
  args = parseArgs({
    options: {
      store: { type: 'string', default: 'both' },
      only: { type: 'string', default: PARTS.join(',') },
      'ingest-spans': { type: 'string', default: '200000' },
      jobs: { type: 'string', default: '40000' },
      rounds: { type: 'string', default: '2' },
      spans: { type: 'string', default: '1000000' },
      requests: { type: 'string', default: '200' },
      fresh: { type: 'boolean', default: false },
      profile: { type: 'string' },
    },
  }).values as typeof args;
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const stores = (args.store === 'both' ? ['sqlite', 'postgres'] : [args.store]) as TraceStoreKind[];
const parts = args.only.split(',') as Part[];
const ingestSpans = Number(args['ingest-spans']);
const jobs = Number(args.jobs);
const rounds = Number(args.rounds);
const spans = Number(args.spans);
const requests = Number(args.requests);
const positive = (n: number, min = 1) => Number.isInteger(n) && n >= min;
if (
  stores.some((s) => s !== 'sqlite' && s !== 'postgres') ||
  parts.some((p) => !PARTS.includes(p)) ||
  !positive(ingestSpans, BATCH_SPANS) ||
  !positive(jobs, 1000) ||
  !positive(rounds) ||
  !positive(spans, 10_000) ||
  !positive(requests)
) {
  console.error(usage);
  process.exit(2);
}

const NAMES: Record<TraceStoreKind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const started = performance.now();
const facts = await traceStoreFacts(stores);
let allMet = true;
const verdict = (met: boolean): string => {
  allMet &&= met;
  return met ? 'yes' : 'NO';
};
const mib = (bytes: number) => `${formatInt(bytes / 2 ** 20)} MiB`;
const tables: (() => void)[] = [];

for (const kind of stores) {
  if (parts.includes('ingest') || parts.includes('jobs')) await receiving(kind);
  if (parts.includes('pages')) {
    const result = await measurePages(kind, { spans, requests, fresh: args.fresh });
    tables.push(() => {
      console.log(
        `\nTrace pages, ${NAMES[kind]}: ${formatInt(result.spans)} spans in ${formatInt(result.traces)} traces, ${requests} requests a page (after 10 to warm up), one at a time\n`,
      );
      printTable(
        [
          'Page',
          { title: 'p50', align: 'right' },
          { title: 'p95', align: 'right' },
          { title: 'max', align: 'right' },
          { title: 'Bytes', align: 'right' },
          `p95 <= ${PAGE_TARGET_MS} ms`,
        ],
        result.pages.map((page) => {
          const summary = summarize(page.times);
          return [
            page.label,
            formatMs(summary.p50),
            formatMs(summary.p95),
            formatMs(summary.max),
            formatInt(page.bytes),
            page.targeted ? verdict(summary.p95 <= PAGE_TARGET_MS) : `(${summary.p95 <= PAGE_TARGET_MS ? 'within' : 'over'}; not targeted)`,
          ];
        }),
      );
      console.log(`  Seeding: ${result.seeded}`);
    });
  }
}

console.log('\nPilotlight traces benchmark\n');
printMachine(facts);
for (const table of tables) table();
console.log(`\n  Total time ${formatDuration(performance.now() - started)}; ${allMet ? 'every target met' : 'some targets MISSED'}.`);
process.exit(allMet ? 0 : 1);

/** Parts 1 and 2 on a fresh trace store of `kind`, with one receiver child for both. */
async function receiving(kind: TraceStoreKind): Promise<void> {
  const database = await createTraceDatabase(kind);
  const profile = args.profile === undefined ? undefined : join(resolve(args.profile), `receiver-${kind}.cpuprofile`);
  const receiver = new ReceiverChild(database.config, profile);
  let received = 0;
  try {
    await receiver.url();
    if (parts.includes('ingest')) {
      progress(`${NAMES[kind]}: building ${formatInt(ingestSpans)} spans of bodies`);
      const warmup = await buildBatches(BATCH_SPANS * 40, EXPORTERS);
      const timed = await buildBatches(ingestSpans, EXPORTERS);
      const result = await measureIngest(receiver, warmup, timed, EXPORTERS);
      const rate = (result.spans / result.storedMs) * 1000;
      progress(`${NAMES[kind]}: ingested ${formatRate(rate)}`);
      const latency = summarize(result.latencies);
      tables.push(() => {
        console.log(
          `\nIngest, ${NAMES[kind]} trace store: ${formatInt(result.spans)} spans, protobuf bodies of ${BATCH_SPANS} (${formatInt(timed.reduce((sum, b) => sum + b.body.byteLength, 0) / timed.length / 1024)} KiB each), ${EXPORTERS} exporters, after ${formatInt(40 * BATCH_SPANS)} spans to warm up\n`,
        );
        printTable(
          ['Measure', { title: 'Value', align: 'right' }, 'Target', 'Met'],
          [
            [
              'Spans/s (until the store counts them all)',
              formatRate(rate),
              `>= ${formatRate(TARGETS.spansPerSecond)}`,
              verdict(rate >= TARGETS.spansPerSecond),
            ],
            ['Time', formatDuration(result.storedMs), '', ''],
            ['Requests acknowledged', formatInt(result.requests), '', ''],
            ['Answered 429 (retried after Retry-After)', formatInt(result.refused), '', ''],
            ['Request latency p50', formatMs(latency.p50), '', ''],
            ['Request latency p95', formatMs(latency.p95), '', ''],
            ['Receiver RSS peak', mib(result.memory.rssBytes), '', ''],
            ['Receiver heap peak', mib(result.memory.heapBytes), '', ''],
          ],
        );
      });
    }
    if (parts.includes('jobs')) {
      const result = await measureJobs(receiver, { jobs, concurrency: 10, rounds, rate: TARGETS.spansPerSecond, exporters: EXPORTERS });
      tables.push(() => printJobs(kind, result));
    }
    received = await receiver.countSpans();
  } finally {
    await receiver.stop();
    await database.destroy();
  }
  if (profile) tables.push(() => printReceiverProfile(profile, received));
}

function printJobs(kind: TraceStoreKind, result: JobsResult): void {
  const rate = (rounds: JobsResult['alone']) => median(rounds.map((round) => round.jobs.perSecond));
  const alone = rate(result.alone);
  const loaded = rate(result.underLoad);
  const slowdown = 1 - loaded / alone;
  const runs = (rounds: JobsResult['alone']) => `[${rounds.map((round) => formatInt(round.jobs.perSecond)).join(', ')}]`;
  const cpu = (rounds: JobsResult['alone']) => formatInt(median(rounds.map((round) => (round.jobs.jobs / round.jobs.cpuMs) * 1000)));
  const spansPerSecond = median(result.underLoad.map((round) => (round.load!.spans / round.load!.ms) * 1000));
  const refused = result.underLoad.reduce((sum, round) => sum + round.load!.refused, 0);
  const latency = summarize(result.underLoad.flatMap((round) => round.load!.latencies));
  const rss = Math.max(...result.underLoad.map((round) => round.memory!.rssBytes));
  const burned = rate(result.besideBurner);
  const share = median(result.besideBurner.map((round) => round.share));
  console.log(
    `\nJob processing beside the receiver (${NAMES[kind]} trace store): ${formatInt(jobs)} no-op jobs, 1 worker at concurrency 10, SQLite job store, tracing off; worker, receiver and generator in 3 processes; A/B/C interleaved, ${rounds} rounds each, medians\n`,
  );
  printTable(
    ['Jobs', { title: 'Jobs/s', align: 'right' }, 'Runs (jobs/s)', { title: 'Jobs/CPU-s', align: 'right' }, 'Target', 'Met'],
    [
      ['A: alone (receiver idle)', formatRate(alone), runs(result.alone), cpu(result.alone), '', ''],
      [
        `B: receiver ingesting ${formatRate(spansPerSecond)} spans`,
        formatRate(loaded),
        runs(result.underLoad),
        cpu(result.underLoad),
        `>= ${formatRate(alone * (1 - TARGETS.maxSlowdown))} (slowdown ${(slowdown * 100).toFixed(1)} %, at most ${TARGETS.maxSlowdown * 100} %)`,
        verdict(slowdown <= TARGETS.maxSlowdown),
      ],
      [
        `C: beside a CPU burner, ${(share * 100).toFixed(0)} % of a core (control)`,
        formatRate(burned),
        runs(result.besideBurner),
        cpu(result.besideBurner),
        `(slowdown ${((1 - burned / alone) * 100).toFixed(1)} %: CPU time alone, no memory traffic)`,
        '',
      ],
    ],
  );
  console.log(
    `  During B: ${formatInt(refused)} answers 429, request latency p50 ${formatMs(latency.p50)} p95 ${formatMs(latency.p95)}, receiver RSS peak ${mib(rss)}.`,
  );
}
