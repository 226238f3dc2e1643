import { checkNonNegative, checkObject, checkPositiveInteger, checkRatio } from './validate.ts';

export interface TailSamplingOptions {
  /** Share (0 to 1) of the attempts that succeeded quickly whose spans are exported. @default 0.1 */
  readonly ratio?: number;
  /** An attempt that ran longer than this (ms) is exported whatever its outcome. @default 10000 */
  readonly slowerThanMs?: number;
  /**
   * Most spans held at once, across every open attempt, while their attempt's outcome is unknown
   * (a held span takes about 1–2 KB: 10,000 spans, 10–20 MB). Past it, the oldest open attempt's
   * spans are exported without waiting for its outcome.
   * @default 10000
   */
  readonly maxBufferedSpans?: number;
}

export interface ResolvedTailSamplingOptions {
  readonly ratio: number;
  readonly slowerThanMs: number;
  readonly maxBufferedSpans: number;
}

/** Validates `options` (named `option` in messages) and applies the defaults; throws a TypeError or RangeError. */
export function resolveTailSamplingOptions(options: TailSamplingOptions | undefined, option: string): ResolvedTailSamplingOptions {
  const given = checkObject(options, option) ?? {};
  return {
    ratio: checkRatio(given.ratio ?? 0.1, `${option}.ratio`),
    slowerThanMs: checkNonNegative(given.slowerThanMs ?? 10_000, `${option}.slowerThanMs`),
    maxBufferedSpans: checkPositiveInteger(given.maxBufferedSpans ?? 10_000, `${option}.maxBufferedSpans`),
  };
}
