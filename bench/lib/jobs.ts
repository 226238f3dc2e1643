import { defineJob } from '../../packages/pilotlight/src/index.ts';
import { epochNow } from './clock.ts';

/** The job of the throughput scenarios: does nothing, so what is measured is the engine. */
export const noopJob = defineJob('bench.noop', async () => {});

export interface ProbeArgs {
  /** Sample number. */
  readonly seq: number;
  /** `epochNow()` in the enqueueing process, taken just before `enqueue()`. */
  readonly enqueuedAt: number;
}

/** A job that reports the moment its handler starts (epoch ms, sub-ms resolution). */
export function probeJob(onStart: (args: ProbeArgs, startedAt: number) => void) {
  return defineJob('bench.probe', async (args: ProbeArgs) => {
    onStart(args, epochNow());
  });
}
