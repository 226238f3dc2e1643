import { cpus, totalmem, platform, arch, release, loadavg } from 'node:os';

/** What the numbers were measured on. `extra` adds store-specific facts (the SQLite or PostgreSQL version). */
export function describeMachine(extra: Readonly<Record<string, string>> = {}): [string, string][] {
  const cores = cpus();
  const model = cores[0]?.model.trim() || 'unknown CPU';
  const mhz = cores[0]?.speed ? ` @ ${(cores[0].speed / 1000).toFixed(2)} GHz` : '';
  return [
    ['CPU', `${model}${mhz}`],
    ['Cores', `${cores.length} logical (available parallelism ${navigatorParallelism()})`],
    ['Memory', `${Math.round(totalmem() / 2 ** 30)} GiB`],
    ['OS', `${platform()} ${release()} ${arch()}`],
    ['Node', process.version],
    ...Object.entries(extra),
    [
      'Load average',
      loadavg()
        .map((value) => value.toFixed(2))
        .join(' '),
    ],
  ];
}

function navigatorParallelism(): number {
  return typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : cpus().length;
}

export function printMachine(extra: Readonly<Record<string, string>> = {}): void {
  const facts = describeMachine(extra);
  const width = Math.max(...facts.map(([key]) => key.length));
  for (const [key, value] of facts) console.log(`  ${key.padEnd(width)}  ${value}`);
}
