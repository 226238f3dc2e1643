import { sleep } from './clock.ts';
import { buildBatches, BATCH_SPANS, type OtlpBatch } from './trace-batches.ts';
import { startBurner } from './trace-burner.ts';
import { sendBatches, type SendResult } from './trace-load.ts';
import type { MemoryPeaks, ReceiverChild } from './trace-receiver.ts';
import { TracingChild, type TracingRunResult } from './tracing-child.ts';

/**
 * The traces bench's two measurements against a receiver child: how fast it ingests (spans/s, the
 * clock stopping once its trace store counts every span), and how much a steady stream of spans
 * into it slows a job workload running in another process beside it.
 */

export interface IngestResult extends SendResult {
  /** From the first send until the trace store counts every span, ms. */
  readonly storedMs: number;
  readonly memory: MemoryPeaks;
}

/** Polls `countSpans()` until it reaches `expected` (the spans were acknowledged, so they are durable already). */
async function countReached(receiver: ReceiverChild, expected: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (let count = await receiver.countSpans(); count !== expected; count = await receiver.countSpans()) {
    if (count > expected) throw new Error(`the trace store counts ${count} spans, more than the ${expected} sent`);
    if (performance.now() > deadline) throw new Error(`the trace store counts ${count} spans, ${expected} expected, after 60 s`);
    await sleep(5);
  }
}

/**
 * Sends `warmup` bodies (not timed: the receiver's JIT and caches), then `timed` as fast as the
 * receiver acknowledges them with `exporters` concurrent exporters; the clock stops when the trace
 * store counts every span sent.
 */
export async function measureIngest(
  receiver: ReceiverChild,
  warmup: readonly OtlpBatch[],
  timed: readonly OtlpBatch[],
  exporters: number,
): Promise<IngestResult> {
  const url = await receiver.url();
  await sendBatches(url, warmup, { exporters });
  const before = await receiver.countSpans();
  await receiver.memoryPeaks(); // new peaks from here
  const started = performance.now();
  const sent = await sendBatches(url, timed, { exporters });
  await countReached(receiver, before + sent.spans);
  const storedMs = performance.now() - started;
  return { ...sent, storedMs, memory: await receiver.memoryPeaks() };
}

export interface JobRound {
  readonly jobs: TracingRunResult;
  /** Round B only: what the generator sent meanwhile. */
  readonly load?: SendResult;
  readonly memory?: MemoryPeaks;
}

export interface JobsResult {
  readonly alone: readonly JobRound[];
  readonly underLoad: readonly JobRound[];
  /** C: beside a CPU burner using the receiver's CPU share of the B round before it. */
  readonly besideBurner: readonly (JobRound & { readonly share: number })[];
}

export interface JobsOptions {
  readonly jobs: number;
  readonly concurrency: number;
  readonly rounds: number;
  /** Spans/s the generator keeps to during rounds B. */
  readonly rate: number;
  readonly exporters: number;
}

/**
 * A job workload (`jobs` no-op jobs enqueued, then worked off by one worker at `concurrency`, in a
 * child process of its own with tracing and metrics disabled, on a fresh SQLite database each run:
 * the tracing bench's `off` child) measured alone (A), while the receiver ingests `rate` spans/s (B), and
 * beside a CPU burner using the CPU share the receiver used in that B (C, the control: what any
 * process using that much CPU costs the worker on this machine), interleaved A, B, C, A, B, C…,
 * after one warm-up run of each child.
 */
export async function measureJobs(receiver: ReceiverChild, options: JobsOptions): Promise<JobsResult> {
  const url = await receiver.url();
  const worker = new TracingChild('off');
  const alone: JobRound[] = [];
  const underLoad: JobRound[] = [];
  const besideBurner: (JobRound & { share: number })[] = [];
  try {
    await worker.ready();
    const run = () => worker.run('process', options.jobs, { concurrency: options.concurrency });
    const warmupStarted = performance.now();
    await run();
    // The B generator's bodies cover the whole child run (its untimed enqueueing too), with margin.
    const coverMs = (performance.now() - warmupStarted) * 2.5 + 2_000;
    await sendBatches(url, await buildBatches(BATCH_SPANS * 20, options.exporters), { exporters: options.exporters });
    for (let round = 0; round < options.rounds; round++) {
      alone.push({ jobs: await run() });
      const batches = await buildBatches((options.rate * coverMs) / 1000, options.exporters);
      await receiver.memoryPeaks();
      let stopped = false;
      const load = sendBatches(url, batches, { exporters: options.exporters, rate: options.rate, stop: () => stopped });
      // The stream first settles into its rate, then the jobs run inside it.
      await sleep(1_000);
      const jobs = await run();
      stopped = true;
      const sent = await load;
      if (sent.spans === batches.length * BATCH_SPANS) throw new Error('the generator ran out of bodies before the jobs were done');
      const memory = await receiver.memoryPeaks();
      underLoad.push({ jobs, load: sent, memory });
      // C, the control: the same CPU share taken by a process doing nothing else.
      const share = memory.cpuMs / memory.wallMs;
      const burner = startBurner(share);
      try {
        await sleep(500);
        besideBurner.push({ jobs: await run(), share });
      } finally {
        burner.stop();
      }
      progress(
        `jobs round ${round + 1}/${options.rounds}: alone ${Math.round(alone.at(-1)!.jobs.perSecond)}/s, with ${Math.round((sent.spans / sent.ms) * 1000)} spans/s ${Math.round(jobs.perSecond)}/s`,
      );
    }
  } finally {
    await worker.stop();
  }
  return { alone, underLoad, besideBurner };
}

export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
