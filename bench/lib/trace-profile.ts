import { summarizeProfile } from './cpuprofile.ts';
import { formatInt } from './format.ts';
import { printTable } from './table.ts';

/**
 * Where the receiver child's CPU time went (`--profile`): self time per package or source file and
 * per function, from its V8 CPU profile (module loading left out), per span received.
 */
export function printReceiverProfile(path: string, spans: number, top = 15): void {
  const { worker: busy } = summarizeProfile(path);
  const rows = (map: ReadonlyMap<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => [key, formatInt(us / 1000), (us / spans).toFixed(2), `${((us / busy.busyUs) * 100).toFixed(1)} %`]);
  console.log(
    `\nReceiver CPU profile (${path}): busy ${formatInt(busy.busyUs / 1000)} ms for ${formatInt(spans)} spans received, ${(busy.busyUs / spans).toFixed(1)} µs a span (the profiler inflates it)\n`,
  );
  const columns = [
    { title: 'ms', align: 'right' as const },
    { title: 'µs/span', align: 'right' as const },
    { title: 'Share', align: 'right' as const },
  ];
  printTable(['Package / file (self time)', ...columns], rows(busy.byCategory));
  console.log();
  printTable(['Function (self time)', ...columns], rows(busy.byFunction));
}
