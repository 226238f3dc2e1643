import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatInt } from './format.ts';
import { printTable } from './table.ts';

/**
 * Reads the V8 CPU profiles the tracing bench writes with `--profile` and tells where a traced
 * child's extra CPU time goes: self time per function and per package or source file, and the time
 * under each hook of the tracing filter, against an untraced child that did the same work.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Which side of the job a sample belongs to, from its stack. */
export type Side = 'startup' | 'client' | 'worker';

export interface ProfileSummary {
  /** Busy time (idle excluded), µs. */
  readonly busyUs: number;
  /** Self time per function (`name file:line`), µs. */
  readonly byFunction: ReadonlyMap<string, number>;
  /** Self time per package (`@opentelemetry/core`), source file (`telemetry/tracing-filter.ts`) or V8 bucket (`(garbage collector)`), µs. */
  readonly byCategory: ReadonlyMap<string, number>;
  /** Inclusive time under the outermost frame of `hookFile` on the stack, per function, µs. */
  readonly byHook: ReadonlyMap<string, number>;
}

const REPO = pathToFileURL(fileURLToPath(new URL('../../', import.meta.url))).href;
const SOURCE = `${REPO}packages/pilotlight/src/`;

function where(url: string): string {
  const otel = /\/node_modules\/(@opentelemetry\/[^/]+)\/(?:dist\/|build\/)?(.*)$/.exec(url);
  if (otel) return `${otel[1]}/${otel[2]}`;
  if (url.startsWith(SOURCE)) return url.slice(SOURCE.length);
  if (url.startsWith(REPO)) return url.slice(REPO.length);
  return url;
}

function category(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native code)';
  const otel = /\/node_modules\/(@opentelemetry\/[^/]+)\//.exec(url);
  if (otel) return otel[1]!;
  if (url.startsWith(SOURCE)) return url.slice(SOURCE.length);
  if (url.startsWith('node:')) return '(node internals)';
  return where(url);
}

function label(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName.length > 40 ? `${frame.functionName.slice(0, 39)}…` : frame.functionName || '(anonymous)';
  return `${name} ${where(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
}

/**
 * One summary per side: `startup` (module loading), `client` (samples with a frame of the client's
 * code on the stack: creating jobs), `worker` (everything else: attempts, and the GC and V8
 * buckets, which have no stack).
 */
export function summarizeProfile(path: string, hookFile = 'telemetry/tracing-filter.ts'): Record<Side, ProfileSummary> {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const empty = () => ({
    busyUs: 0,
    byFunction: new Map<string, number>(),
    byCategory: new Map<string, number>(),
    byHook: new Map<string, number>(),
  });
  const sides = { startup: empty(), client: empty(), worker: empty() };
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to it.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(profile.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    let hook: ProfileNode | undefined;
    let side: Side = 'worker';
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const { url } = byId.get(id)!.callFrame;
      if (url.endsWith(hookFile)) hook = byId.get(id);
      if (url.startsWith('node:internal/modules/')) side = 'startup';
      else if (side === 'worker' && url.startsWith(`${SOURCE}client/`)) side = 'client';
    }
    const summary = sides[side];
    summary.busyUs += us;
    add(summary.byFunction, label(leaf.callFrame), us);
    add(summary.byCategory, category(leaf.callFrame), us);
    if (hook) add(summary.byHook, label(hook.callFrame), us);
  }
  return sides;
}

/**
 * Prints `other` minus `base` (self time, in µs per job both children ran, `per` jobs in all):
 * the biggest differences per category and per function, and the time under each tracing hook.
 */
export function printProfileDiff(title: string, base: ProfileSummary, other: ProfileSummary, per: number, top = 12): void {
  const extra = other.busyUs - base.busyUs;
  const share = (us: number) => (extra > 0 ? `${((us / extra) * 100).toFixed(0)} %` : '');
  const rows = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>) =>
    [...new Set([...a.keys(), ...b.keys()])]
      .map((key) => ({ key, diff: (b.get(key) ?? 0) - (a.get(key) ?? 0) }))
      .filter(({ diff }) => Math.abs(diff / per) >= 0.01)
      .sort((x, y) => y.diff - x.diff)
      .slice(0, top)
      .map(({ key, diff }) => [key, (diff / per).toFixed(2), share(diff)]);
  console.log(
    `${title}: busy ${formatInt(base.busyUs / 1000)} ms vs ${formatInt(other.busyUs / 1000)} ms, ${extra >= 0 ? '+' : ''}${(extra / per).toFixed(2)} µs per job\n`,
  );
  printTable(
    ['Package / file (self time)', { title: 'µs/job', align: 'right' }, { title: 'Share', align: 'right' }],
    rows(base.byCategory, other.byCategory),
  );
  console.log();
  printTable(
    ['Function (self time)', { title: 'µs/job', align: 'right' }, { title: 'Share', align: 'right' }],
    rows(base.byFunction, other.byFunction),
  );
  console.log();
  if (base.byHook.size + other.byHook.size === 0) return;
  printTable(
    ['Under each tracing hook (inclusive)', { title: 'µs/job', align: 'right' }, { title: 'Share', align: 'right' }],
    rows(base.byHook, other.byHook),
  );
  console.log();
}
