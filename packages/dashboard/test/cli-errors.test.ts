/**
 * The pilotlight command's mistakes and failures, as real processes: each message names the flag,
 * the value and what to do, without a stack; exit code 2 for the command line and for a store that
 * cannot be opened as given, 1 for a store that failed. Also: help, version, colours.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, defineJob } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { testSchema, TEST_DATABASE_URL } from '../../postgres/test/support/schemas.ts';
import { CLI, cli, shown, type CliResult } from './cli-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'pilotlight-cli-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'jobs.db');

before(async () => {
  const store = createSqliteStore({ path });
  await createClient({ store }).enqueue(
    defineJob('app.noop', async () => {}),
    undefined,
  ); // one job, never run
  await store.close();
});

/** A user error: exit `code`, the message on stderr (no stack), nothing on stdout. */
function refused(result: CliResult, message: RegExp, code = 2): void {
  assert.equal(result.code, code, shown(result));
  assert.match(result.stderr, /^pilotlight: /, shown(result));
  assert.match(result.stderr, message, shown(result));
  assert.doesNotMatch(result.stderr, /\n\s+at /, `no stack trace\n${shown(result)}`);
  assert.equal(result.stdout, '', shown(result));
}

describe('the command line', { concurrency: 4 }, () => {
  const cases: [string, string[], RegExp][] = [
    [
      'an unknown command',
      ['jbos', '--sqlite', path],
      /unknown command 'jbos': the commands are dashboard, stats, jobs, job, requeue, delete, recurring/,
    ],
    [
      'an unknown option',
      ['jobs', '--sqlite', path, '--frobnicate'],
      /unknown option --frobnicate\nRun 'pilotlight jobs --help' for its options/,
    ],
    ['an option without its value', ['jobs', '--sqlite', path, '--limit'], /--limit needs a value: --limit N/],
    [
      'a value that looks like an option',
      ['jobs', '--limit', '--sqlite', path],
      /--limit needs a value, and the next argument starts with '-'/,
    ],
    ['a value given to a switch', ['jobs', '--sqlite', path, '--json=yes'], /--json takes no value \(it is a switch\)/],
    ['a limit out of range', ['jobs', '--sqlite', path, '--limit', '0'], /--limit must be an integer from 1 to 10000; received '0'/],
    [
      'a limit that is not a number',
      ['jobs', '--sqlite', path, '--limit', 'ten'],
      /--limit must be an integer from 1 to 10000; received 'ten'/,
    ],
    [
      'an unknown state',
      ['jobs', '--sqlite', path, '--state', 'Running'],
      /--state must be one of Enqueued, Scheduled, Awaiting, Processing, Succeeded, Failed, Deleted; received 'Running'/,
    ],
    ['an empty value', ['jobs', '--sqlite', path, '--queue', ''], /--queue needs a non-empty value/],
    ['an argument to a command that takes none', ['stats', '--sqlite', path, 'extra'], /unexpected argument 'extra'/],
    ['job without an id', ['job', '--sqlite', path], /give exactly one job id; received none/],
    ['job with two ids', ['job', '1', '2', '--sqlite', path], /give exactly one job id; received 1 2/],
    ['requeue without an id', ['requeue', '--sqlite', path], /give at least one job id\nRun 'pilotlight requeue --help'/],
    [
      'a port out of range',
      ['dashboard', '--sqlite', path, '--port', '70000'],
      /--port must be an integer from 0 to 65535; received '70000'/,
    ],
    [
      'two stores',
      ['stats', '--sqlite', path, '--postgres', TEST_DATABASE_URL],
      /give one store: --sqlite FILE or --postgres URL, not both/,
    ],
    [
      '--schema with SQLite',
      ['stats', '--sqlite', path, '--schema', 'x'],
      /--schema applies to PostgreSQL stores only; received 'x' with --sqlite/,
    ],
    ['no store', ['stats'], /no store given: pass --sqlite FILE or --postgres URL, or set DATABASE_URL/],
    [
      'a URL that is not PostgreSQL',
      ['stats', '--postgres', 'mysql://db/app'],
      /--postgres must be a postgres:\/\/ \(or postgresql:\/\/\) URL; received 'mysql:\/\/db\/app'/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: exit 2 and a message saying what to do`, async () => refused(await cli(args), message));
  }

  it('a missing SQLite file: exit 2, the path named, and no file created', async () => {
    const missing = join(dir, 'typo.db');
    refused(await cli(['stats', '--sqlite', missing]), new RegExp(`--sqlite ${missing}: no such file .*never creates one`));
    assert.equal(existsSync(missing), false, 'no empty database was created');
  });

  it('a file that is not a database: exit 2, the path and SQLite’s message', async () => {
    const garbage = join(dir, 'notes.txt');
    writeFileSync(garbage, 'not a database, only text that is long enough to be read as a header. '.repeat(20));
    refused(
      await cli(['stats', '--sqlite', garbage]),
      new RegExp(`--sqlite ${garbage}: SQLite cannot open it as a store \\(file is not a database\\)`),
    );
  });

  it('DATABASE_URL is the store when no option names one', async () => {
    const result = await cli(['stats'], { DATABASE_URL: 'sqlite:jobs.db' });
    refused(result, /DATABASE_URL must be a postgres:\/\/ \(or postgresql:\/\/\) URL; received 'sqlite:jobs.db'/);
  });

  it('a PostgreSQL server that does not answer: exit 2, the URL without its password', async () => {
    const port = await freePort();
    const result = await cli(['stats', '--postgres', `postgres://app:s3cret@127.0.0.1:${port}/app`]);
    refused(
      result,
      new RegExp(
        `could not read the PostgreSQL database at postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/app \\(--postgres\\): .*ECONNREFUSED`,
      ),
    );
    assert.doesNotMatch(result.stderr, /s3cret/);
  });

  it('a PostgreSQL schema that does not exist: exit 2, and none created', async () => {
    const schema = testSchema();
    const result = await cli(['stats', '--schema', schema], { DATABASE_URL: TEST_DATABASE_URL });
    refused(result, new RegExp(`\\(DATABASE_URL\\) has no schema '${schema}', so no Pilotlight store there\\. Check --schema`));
    const again = await cli(['stats', '--schema', schema], { DATABASE_URL: TEST_DATABASE_URL });
    refused(again, /has no schema/, 2);
  });

  it('PostgreSQL without @pilotlight/postgres and pg installed: exit 2 and how to install them', async () => {
    // A resolve hook makes the two packages unresolvable, as in an application that installed neither.
    const hook = `data:text/javascript,${encodeURIComponent(
      "import { registerHooks } from 'node:module';" +
        'registerHooks({ resolve(specifier, context, next) {' +
        "if (specifier === 'pg' || specifier === '@pilotlight/postgres') {" +
        "throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' }); }" +
        'return next(specifier, context); } });',
    )}`;
    const result = await cli(['stats', '--postgres', TEST_DATABASE_URL], {
      NODE_OPTIONS: `--conditions=@pilotlight/source --import=${hook}`,
    });
    refused(
      result,
      /a PostgreSQL store needs the packages @pilotlight\/postgres and pg, which are not installed .*npm install @pilotlight\/postgres pg/,
    );
  });

  it('a port in use: exit 2, and what to pass instead', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      refused(
        await cli(['dashboard', '--sqlite', path, '--port', String(port)]),
        new RegExp(`--port ${port}: 127\\.0\\.0\\.1:${port} is already in use\\. Pass another --port, or --port 0`),
      );
    } finally {
      server.close();
    }
  });

  it('--help: every command has its own, exit 0', async () => {
    const main = await cli(['--help']);
    assert.equal(main.code, 0, shown(main));
    assert.match(main.stdout, /^Usage: pilotlight <command> \[options\]$/m);
    for (const command of ['dashboard', 'stats', 'jobs', 'job', 'requeue', 'delete', 'recurring']) {
      assert.match(main.stdout, new RegExp(`^ {2}${command} +\\S`, 'm'), `${command} listed`);
      const help = await cli([command, '--help']);
      assert.equal(help.code, 0, shown(help));
      assert.match(help.stdout, new RegExp(`^Usage: pilotlight ${command} `, 'm'));
      assert.match(help.stdout, /^ {2}--sqlite FILE +the SQLite store/m);
      assert.match(help.stdout, /^ {2}--help +show this help$/m);
      assert.equal(/^ {2}--json /m.test(help.stdout), command !== 'dashboard', `${command}: --json`);
    }
    const none = await cli([]);
    assert.equal(none.code, 2, 'no command is a usage error');
    assert.match(none.stderr, /^Usage: pilotlight <command>/);
  });

  it('--version: the package version', async () => {
    const result = await cli(['--version']);
    assert.equal(result.code, 0, shown(result));
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(result.stdout, `${version}\n`);
  });

  it('colours only for a terminal: none in a pipe, some with FORCE_COLOR', async () => {
    const plain = await cli(['jobs', '--sqlite', path]);
    assert.equal(plain.code, 0, shown(plain));
    assert.match(plain.stdout, /^ID +STATE +JOB +QUEUE/);
    assert.doesNotMatch(plain.stdout, /\x1b\[/);
    const forced = await cli(['jobs', '--sqlite', path], { FORCE_COLOR: '1' });
    assert.equal(forced.code, 0, shown(forced));
    assert.match(forced.stdout, /^\x1b\[1mID\x1b\[22m/, 'a bold header');
  });
});

describe('a reader that stops early', () => {
  it('pilotlight jobs | head -1: the command ends at once, exit 0, nothing on stderr', async () => {
    const many = join(dir, 'many.db');
    const store = createSqliteStore({ path: many });
    const noop = defineJob('app.noop', async () => {});
    await createClient({ store }).enqueueMany(
      noop,
      Array.from({ length: 3_000 }, () => undefined),
    );
    await store.close();
    // The shell's own pipe, as a user types it; PIPESTATUS[0] is the command's exit status.
    const command = `"${process.execPath}" --conditions=@pilotlight/source "${CLI}" jobs --sqlite "${many}" --limit 3000 | head -1; echo "status=\${PIPESTATUS[0]}" >&2`;
    const child = spawnSync('bash', ['-c', command], { encoding: 'utf8', timeout: 30_000 });
    assert.match(child.stdout, /ID +STATE +JOB +QUEUE/, child.stderr);
    assert.match(child.stderr, /^status=0$/m, child.stderr);
    assert.doesNotMatch(child.stderr, /EPIPE|Error/, child.stderr);
  });
});

function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  return new Promise((resolve) =>
    server.once('listening', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }),
  );
}
