import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RepeatedFailures } from '../src/util/repeated-failures.ts';
import type { Logger } from '../src/index.ts';

it('logs the first failure of a kind, repeats at most every 30 s with a count, and the recovery once', () => {
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: (message) => void lines.push(`INFO ${message}`),
    warn: (message) => void lines.push(`WARN ${message}`),
    error: (message, details) => void lines.push(`ERROR ${message} [${(details?.error as Error).message}]`),
  };
  let now = 1_000_000;
  const failures = new RepeatedFailures(logger, () => now);
  const down = new Error('ECONNREFUSED');

  failures.succeeded('claim', 'claims again'); // no streak: nothing to say
  for (let i = 0; i < 10; i++, now += 1_000) failures.failed('claim', 'could not claim', down);
  failures.failed('heartbeat', 'could not beat', down, 'warn'); // another kind: its own first line
  now += 21_000; // 31 s after the first claim failure
  failures.failed('claim', 'could not claim', down);
  now += 4_000;
  failures.succeeded('claim', 'claims again');
  failures.failed('claim', 'could not claim', down); // a new streak starts afresh

  assert.deepEqual(lines, [
    'ERROR could not claim [ECONNREFUSED]',
    'WARN could not beat',
    'ERROR could not claim (failing for 31 s; 9 repeats not logged) [ECONNREFUSED]',
    'INFO claims again after 11 failures over 35 s',
    'ERROR could not claim [ECONNREFUSED]',
  ]);
});
