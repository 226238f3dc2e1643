/**
 * The packages as a user gets them. `npm pack` packs pilotlight, @pilotlight/postgres,
 * @pilotlight/otel and @pilotlight/dashboard once (their prepack builds dist/); the tarballs must hold
 * package.json, README.md, LICENSE and dist/ only (the dashboard: its assets/ too), with READMEs whose
 * links work on the registry's page, and bins that are in them and start with a shebang. A fresh application
 * outside the repository then installs the tarballs, as a user would, next to what a user adds (pg,
 * the OpenTelemetry API and SDK, @types/node), and, with no trace of the repository's
 * `@pilotlight/source` condition in its environment:
 *
 * - runs a JavaScript ES module program (enqueue, retry, continuation, schedule, spans from the real
 *   SDK, a task) and a CommonJS `require()` program on Node.js 22.15.0 (the lowest supported), the
 *   repository's Node.js and 26.10.0;
 * - runs a program under `node --import @pilotlight/otel/register` and reads its console trace tree;
 * - runs a program on the real PostgreSQL server, in a schema of its own (dropped afterwards);
 * - runs the `pilotlight` command through `npx` on each of those Node.js versions: `stats --json` on a
 *   SQLite store the application seeded, and `dashboard --port 0`, which serves GET /, takes a span on
 *   its OTLP receiver (`/v1/traces`) and shows its trace's page, and exits 0 on a Ctrl+C (SIGINT to its
 *   process group, npx included);
 * - type-checks a TypeScript program using every entry point, under `nodenext` and `bundler`
 *   resolution, strict, with skipLibCheck off (so the published .d.ts files are checked too);
 * - on Node.js 22.12.0 (too old for the SQLite store), checks the error that says so.
 *
 * Node.js binaries are installed from the npm registry (`node@X.Y.Z`) into a cache in the system's
 * temporary folder, kept between runs; the application is removed at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import {
  cleanEnv,
  describeOutput,
  FIXTURES,
  killAll,
  lastJsonLine,
  nodeBinary,
  npm,
  npx,
  ROOT,
  run,
  stopGroup,
  type RunResult,
} from './support.ts';
import { readTarball, relativeLinks } from './tarball.ts';

/** The Node.js versions the programs run on: the lowest supported (the floor of every package's engines), the repository's, the newest 26. */
const NODE_VERSIONS = ['22.15.0', process.versions.node, '26.10.0'];
/** The engines range every package states: only what this file tests. */
const ENGINES = `^${NODE_VERSIONS[0]} || ^24.0.0 || ^26.0.0`;
/** The newest Node.js release the SQLite store refuses (node:sqlite needs a flag there). */
const UNSUPPORTED_NODE = '22.12.0';
/** The release the SQLite store's error names: the first with node:sqlite unflagged. */
const SQLITE_MINIMUM_NODE = '22.13.0';
/** `folders`: what the tarball holds beside package.json, README.md and LICENSE. */
const PACKAGES = [
  { name: 'pilotlight', folder: 'pilotlight', folders: ['dist'] },
  { name: '@pilotlight/postgres', folder: 'postgres', folders: ['dist'] },
  { name: '@pilotlight/otel', folder: 'otel', folders: ['dist'] },
  { name: '@pilotlight/dashboard', folder: 'dashboard', folders: ['dist', 'assets'] },
] as const;
const DATABASE_URL = process.env.PILOTLIGHT_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const WORK = mkdtempSync(join(tmpdir(), 'pilotlight-packed-'));
const TARBALLS = join(WORK, 'tarballs');
const APP = join(WORK, 'app');

after(() => {
  killAll();
  rmSync(WORK, { recursive: true, force: true }); // the Node.js cache stays
});

// Node.js downloads start at once, alongside packing and installing; each test awaits its own.
const nodes = new Map<string, Promise<{ binary: string; note: string }>>();
for (const version of [...NODE_VERSIONS.filter((version) => version !== process.versions.node), UNSUPPORTED_NODE]) {
  const install = nodeBinary(version);
  install.catch(() => {}); // reported by the tests that need it
  nodes.set(version, install);
}
const noted = new Set<string>();
async function node(version: string, t: TestContext): Promise<string> {
  if (version === process.versions.node) return process.execPath;
  const { binary, note } = await nodes.get(version)!;
  if (!noted.has(version)) t.diagnostic(note);
  noted.add(version);
  return binary;
}

// --- 1. npm pack --------------------------------------------------------------------------------

interface Packed {
  readonly name: string;
  readonly tarball: string;
  readonly size: number;
  readonly files: Map<string, Buffer>;
}
let packing: Promise<Packed[]> | undefined;
function packAll(): Promise<Packed[]> {
  packing ??= (async () => {
    mkdirSync(TARBALLS, { recursive: true });
    const args = ['pack', ...PACKAGES.flatMap(({ name }) => ['-w', name]), '--pack-destination', TARBALLS, '--json'];
    const result = await npm(args, { cwd: ROOT, timeout: 180_000 });
    assert.equal(result.code, 0, `npm ${args.join(' ')} failed\n${describeOutput(result)}`);
    const reports = JSON.parse(result.stdout) as { name: string; filename: string; size: number }[];
    return PACKAGES.map(({ name }) => {
      const report = reports.find((entry) => entry.name === name);
      assert.ok(report, `npm pack reported no tarball for ${name}\n${result.stdout}`);
      const tarball = join(TARBALLS, report.filename);
      return { name, tarball, size: report.size, files: readTarball(tarball) };
    });
  })();
  return packing;
}

test(
  'npm pack: each tarball holds package.json, README.md, LICENSE and dist/ only (the dashboard: assets/ too), a README whose links are absolute, and its bins',
  { timeout: 240_000 },
  async (t) => {
    const started = performance.now();
    const packed = await packAll();
    t.diagnostic(`packed ${packed.length} packages in ${Math.round(performance.now() - started)} ms into ${TARBALLS}`);
    for (const { name, size, files, tarball } of packed) {
      const unpacked = [...files.values()].reduce((sum, body) => sum + body.length, 0);
      t.diagnostic(
        `${name}: ${tarball.split('/').at(-1)} ${(size / 1024).toFixed(1)} KiB, ${files.size} files, ${(unpacked / 1024).toFixed(0)} KiB unpacked`,
      );
    }

    for (const [index, { name, files }] of packed.entries()) {
      const { folder, folders } = PACKAGES[index]!;
      await t.test(`${name}: engines states the tested Node.js versions, ${ENGINES}`, () => {
        const manifest = JSON.parse(files.get('package/package.json')!.toString('utf8')) as { engines?: { node?: string } };
        assert.equal(manifest.engines?.node, ENGINES);
      });
      await t.test(`${name}: only package.json, README.md, LICENSE and ${folders.map((dir) => `${dir}/**`).join(', ')}`, () => {
        const paths = [...files.keys()].sort();
        const inFolders = new RegExp(`^package/(?:${folders.join('|')})/[^\\s]+$`);
        const unexpected = paths.filter(
          (path) => !['package/package.json', 'package/README.md', 'package/LICENSE'].includes(path) && !inFolders.test(path),
        );
        for (const dir of folders)
          assert.ok(
            paths.some((path) => path.startsWith(`package/${dir}/`)),
            `${dir}/ is in the tarball`,
          );
        assert.deepEqual(unexpected, [], `unexpected files in the ${name} tarball`);
        assert.ok(files.has('package/package.json'), 'package.json');
        assert.ok(files.has('package/LICENSE'), 'LICENSE');
        assert.equal(
          files.get('package/LICENSE')!.toString('utf8'),
          readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
          'LICENSE is the repository LICENSE',
        );
        for (const path of paths.filter((p) => p.startsWith('package/dist/'))) {
          assert.match(path, /\.(?:js|d\.ts|js\.map|d\.ts\.map)$/, `only compiled output in dist/: ${path}`);
          assert.doesNotMatch(
            path,
            /(?:^|\/)(?:src|test|tests|fixtures|__tests__)\/|\.test\.|tsconfig|\.tsbuildinfo$/,
            `no sources, tests, fixtures or tsconfig: ${path}`,
          );
        }
        // Every export points at a file that is in the tarball.
        const manifest = JSON.parse(files.get('package/package.json')!.toString('utf8')) as {
          exports: Record<string, Record<string, string> | string>;
          name: string;
          version: string;
        };
        assert.equal(manifest.name, name);
        const source = JSON.parse(readFileSync(join(ROOT, 'packages', folder, 'package.json'), 'utf8')) as { version: string };
        assert.equal(manifest.version, source.version);
        for (const [entry, target] of Object.entries(manifest.exports)) {
          const conditions: [string, string][] = typeof target === 'string' ? [['default', target]] : Object.entries(target);
          for (const [condition, file] of conditions) {
            if (condition === '@pilotlight/source') continue; // the repository's own condition: src/ is not shipped
            assert.ok(files.has(`package/${file.replace(/^\.\//, '')}`), `exports["${entry}"].${condition} → ${file} is in the tarball`);
          }
        }
      });
      await t.test(`${name}: every bin is in the tarball and starts with #!/usr/bin/env node`, () => {
        const manifest = JSON.parse(files.get('package/package.json')!.toString('utf8')) as { bin?: Record<string, string> };
        for (const [command, file] of Object.entries(manifest.bin ?? {})) {
          const body = files.get(`package/${file.replace(/^\.\//, '')}`);
          assert.ok(body, `bin ${command} → ${file} is in the tarball`);
          assert.match(body.toString('utf8'), /^#!\/usr\/bin\/env node\n/, `bin ${command} (${file}) starts with a shebang`);
        }
      });
      await t.test(`${name}: README.md present, with no relative links`, () => {
        const readme = files.get('package/README.md');
        assert.ok(readme, `the ${name} tarball has no README.md (the registry page would be empty)`);
        const text = readme.toString('utf8');
        assert.match(text, /^#\s+\S/m, 'the README has a title');
        assert.deepEqual(
          relativeLinks(text),
          [],
          `relative links in ${name}'s README.md lead nowhere on the registry; use absolute URLs or anchors`,
        );
      });
    }
  },
);

// --- 2. A fresh application ---------------------------------------------------------------------

/** Versions the repository itself uses, so the app installs what the repository is tested with. */
function repoRange(packageJson: string, section: 'devDependencies' | 'dependencies', name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, packageJson), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const range = manifest[section]?.[name];
  assert.ok(range, `${packageJson} ${section} has no ${name}`);
  return range;
}

let installing: Promise<void> | undefined;
function installApp(t: TestContext): Promise<void> {
  installing ??= (async () => {
    const packed = await packAll();
    mkdirSync(join(APP, 'data'), { recursive: true });
    writeFileSync(
      join(APP, 'package.json'),
      `${JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
    for (const file of readdirSync(join(FIXTURES, 'app'))) copyFileSync(join(FIXTURES, 'app', file), join(APP, file));
    const userPackages = [
      `pg@${repoRange('packages/postgres/package.json', 'devDependencies', 'pg')}`,
      ...['@opentelemetry/api', '@opentelemetry/sdk-trace', '@opentelemetry/context-async-hooks', '@opentelemetry/core', '@types/node'].map(
        (name) => `${name}@${repoRange('package.json', 'devDependencies', name)}`,
      ),
    ];
    const args = ['install', ...packed.map(({ tarball }) => tarball), ...userPackages, '--no-audit', '--no-fund', '--prefer-offline'];
    t.diagnostic(`in ${APP}: npm install <${packed.length} tarballs> ${userPackages.join(' ')}`);
    const result = await npm(args, { cwd: APP, timeout: 240_000 });
    assert.equal(result.code, 0, `npm install in the fresh app failed\n${describeOutput(result)}`);
    t.diagnostic(`npm install: ${result.ms} ms; ${result.stdout.trim().split('\n').at(-1)}`);
  })();
  return installing;
}

test('a fresh application outside the repository installs the tarballs', { timeout: 300_000 }, async (t) => {
  await installApp(t);
  for (const { name } of PACKAGES) {
    const installed = JSON.parse(readFileSync(join(APP, 'node_modules', name, 'package.json'), 'utf8')) as { name: string };
    assert.equal(installed.name, name);
    assert.ok(existsSync(join(APP, 'node_modules', name, 'dist')), `${name} installed with its dist/`);
    assert.ok(!existsSync(join(APP, 'node_modules', name, 'src')), `${name} installed without src/`);
  }
  const manifest = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.ok(!('@types/pg' in manifest.dependencies), 'the application does not depend on @types/pg itself');
  assert.ok(existsSync(join(APP, 'node_modules', '@types', 'pg', 'index.d.ts')), '@types/pg came with @pilotlight/postgres');
  assert.ok(existsSync(join(APP, 'node_modules', '.bin', 'pilotlight')), 'the pilotlight command came with @pilotlight/dashboard');
});

/** Stands for a fresh, empty data folder in the arguments of `inApp`. */
const DATA = '<data dir>';

/**
 * Runs `node <args>` in the fresh app (installing it first if no earlier test did) with a user's
 * environment: no NODE_OPTIONS, no OTEL_*. A `DATA` argument becomes a fresh data folder.
 */
async function inApp(t: TestContext, version: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  await installApp(t);
  const binary = await node(version, t);
  args = args.map((arg) => (arg === DATA ? mkdtempSync(join(APP, 'data', 'run-')) : arg));
  const result = await run(binary, args, { cwd: APP, env: cleanEnv(extraEnv), timeout: 60_000 });
  t.diagnostic(`node ${args.join(' ')}: exit ${result.code} in ${result.ms} ms`);
  const warnings = result.stderr.split('\n').filter((line) => /Warning/.test(line));
  if (warnings.length > 0)
    t.diagnostic(`stderr warnings: ${[...new Set(warnings.map((line) => line.replace(/^\(node:\d+\) /, '')))].join(' | ')}`);
  return result;
}

// --- 3a. JavaScript programs on each Node.js version ------------------------------------------------

interface SpanSummary {
  name: string;
  scope: string;
  traceId: string;
  jobId?: string;
  taskId?: string;
  taskStatus?: string;
  status: number;
}

for (const version of NODE_VERSIONS) {
  test(
    `Node.js ${version}: an ES module program enqueues, retries, continues, schedules, traces and runs a task on the SQLite store`,
    { timeout: 300_000 },
    async (t) => {
      const result = await inApp(t, version, ['jobs.js', DATA]);
      assert.equal(result.code, 0, describeOutput(result));
      const summary = lastJsonLine(result);
      t.diagnostic(`jobs done in ${summary.elapsedMs} ms; ${summary.spans.length} spans`);
      assert.equal(summary.node, `v${version}`);
      assert.equal(summary.nodeOptions, null, 'no NODE_OPTIONS (the repository sets --conditions=@pilotlight/source there)');
      for (const [name, url] of Object.entries(summary.resolved as Record<string, string>)) {
        assert.match(
          url,
          /\/app\/node_modules\/pilotlight\/dist\/[\w/-]+\.js$/,
          `${name} resolves to the installed package's dist/: ${url}`,
        );
      }

      assert.deepEqual(summary.runs, { greet: 1, flaky: 2, followUp: 1, later: 1 }, 'each job ran once, the flaky one twice');
      const jobs = summary.jobs;
      for (const key of ['greet', 'flaky', 'followUp', 'later'])
        assert.equal(jobs[key].state, 'Succeeded', `${key}: ${JSON.stringify(jobs[key])}`);
      assert.deepEqual(jobs.flaky.history, ['Enqueued', 'Processing', 'Scheduled', 'Enqueued', 'Processing', 'Succeeded']);
      assert.equal(jobs.flaky.attempt, 2);
      assert.equal(jobs.flaky.retryCount, 1);
      assert.equal(jobs.followUp.history[0], 'Awaiting', 'the continuation waited for its parent');
      assert.equal(jobs.later.history[0], 'Scheduled', 'the delayed job was scheduled first');

      const spans: SpanSummary[] = summary.spans;
      const names = spans.map((span) => span.name);
      for (const expected of [
        'enqueue app.greet',
        'process app.greet',
        'enqueue app.flaky',
        'continue app.followUp',
        'process app.followUp',
        'schedule app.later',
        'process app.later',
      ]) {
        assert.ok(names.includes(expected), `a span named "${expected}" among ${JSON.stringify(names)}`);
      }
      const flakyAttempts = spans.filter((span) => span.name === 'process app.flaky');
      assert.equal(flakyAttempts.length, 2, 'one process span per attempt');
      assert.deepEqual(
        flakyAttempts.map((span) => span.status),
        [2, 0],
        'the failed attempt has status ERROR, the second none',
      );
      const traceIds = new Set<string>();
      for (const [key, id] of Object.entries(summary.ids as Record<string, string>)) {
        const own = spans.filter((span) => span.jobId === id);
        assert.ok(
          own.every((span) => span.scope === 'pilotlight'),
          `${key}: spans from the tracer "pilotlight"`,
        );
        const ids = new Set(own.map((span) => span.traceId));
        assert.equal(ids.size, 1, `job ${key}: all its spans (${own.map((span) => span.name).join(', ')}) in one trace`);
        traceIds.add([...ids][0]!);
      }
      assert.equal(traceIds.size, 4, 'one trace per job');

      assert.deepEqual(summary.task.result, 42);
      assert.equal(summary.task.status, 'Completed');
      const taskSpans = spans.filter((span) => span.name === 'BackgroundTask.DoubleTask');
      assert.equal(taskSpans.length, 1, 'one BackgroundTask.{Type} span');
      assert.equal(taskSpans[0]!.scope, 'pilotlight.tasks');
      assert.equal(taskSpans[0]!.taskId, summary.task.id);
      assert.equal(taskSpans[0]!.taskStatus, 'Completed');
      assert.deepEqual(summary.tracerNames, { jobs: 'pilotlight', tasks: 'pilotlight.tasks' });
    },
  );

  test(`Node.js ${version}: a CommonJS program require()s every package and runs a job`, { timeout: 300_000 }, async (t) => {
    const result = await inApp(t, version, ['smoke.cjs', DATA]);
    assert.equal(result.code, 0, describeOutput(result));
    const summary = lastJsonLine(result);
    assert.equal(summary.node, `v${version}`);
    assert.equal(summary.state, 'Succeeded');
    assert.equal(summary.ran, 1);
    assert.deepEqual(summary.exports, {
      createClient: 'function',
      createTaskManager: 'function',
      PilotlightError: 'function',
      JOB_TRACER_NAME: 'pilotlight',
      METER_NAME: 'pilotlight',
      historyEntry: 'function',
      createPostgresStore: 'function',
      startTelemetry: 'function',
      ConsoleTraceTreeExporter: 'function',
      createJobSampler: 'function',
      JobTailSamplingProcessor: 'function',
    });
  });

  // --- 3c. node --import @pilotlight/otel/register ---------------------------------------------

  test(`Node.js ${version}: node --import @pilotlight/otel/register prints the job's trace as a tree`, { timeout: 300_000 }, async (t) => {
    const result = await inApp(t, version, ['--import', '@pilotlight/otel/register', 'otel-app.js', DATA]);
    assert.equal(result.code, 0, describeOutput(result));
    assert.match(result.stdout, /^job \d+ Succeeded$/m, describeOutput(result));
    // No endpoint configured: the console trace tree. The attempt is a child of the enqueue span.
    const trees = result.stdout.split(/^(?=trace [0-9a-f]{32}$)/m).filter((part) => part.startsWith('trace '));
    const tree = trees.find((part) => part.includes('enqueue otel.ping'));
    assert.ok(tree, `a trace tree with the enqueue span\n${describeOutput(result)}`);
    assert.match(tree, /^enqueue otel\.ping {2}\[PRODUCER\]/m);
    assert.match(tree, /^│ {2}· State Applied: Enqueued$/m);
    assert.match(tree, /^└─ process otel\.ping {2}\[CONSUMER\]/m, `the process span under the enqueue span, in the same trace\n${tree}`);
    assert.match(tree, /· State Applied: Succeeded$/m);
    assert.doesNotMatch(
      result.stderr,
      /DeprecationWarning/,
      `no deprecation warning (module.register() is DEP0205 on Node.js 26)\n${result.stderr}`,
    );
  });

  test(
    `Node.js ${version}: the register module's metrics (OTEL_METRICS_EXPORTER) and job sampler (PILOTLIGHT_TRACES_SAMPLER) run from the packed packages`,
    { timeout: 300_000 },
    async (t) => {
      const result = await inApp(t, version, ['--import', '@pilotlight/otel/register', 'otel-app.js', DATA], {
        OTEL_METRICS_EXPORTER: 'console',
        // Ratio 0 for every job type: the enqueue span (a root) is dropped, and the attempt follows it.
        PILOTLIGHT_TRACES_SAMPLER: 'ratio=0',
      });
      assert.equal(result.code, 0, describeOutput(result));
      assert.match(result.stdout, /^job \d+ Succeeded$/m, describeOutput(result));
      // The console metric exporter prints each instrument at the final collection (shutdown at beforeExit).
      for (const name of [
        'messaging.client.sent.messages',
        'messaging.client.consumed.messages',
        'messaging.process.duration',
        'pilotlight.job.attempts',
      ]) {
        assert.ok(result.stdout.includes(`'${name}'`), `the instrument ${name} is exported\n${describeOutput(result)}`);
      }
      assert.doesNotMatch(
        result.stdout,
        /enqueue otel\.ping|process otel\.ping/,
        `no job span is sampled at ratio 0\n${describeOutput(result)}`,
      );
      assert.doesNotMatch(result.stderr, /PILOTLIGHT_TRACES_SAMPLER/, `the variable is accepted\n${result.stderr}`);
    },
  );

  // --- 3d. PostgreSQL ---------------------------------------------------------------------------

  test(
    `Node.js ${version}: a program on the PostgreSQL store enqueues, runs, and enqueues inside a transaction`,
    { timeout: 300_000 },
    async (t) => {
      const schema = `pilotlight_packed_${randomBytes(6).toString('hex')}`;
      try {
        const result = await inApp(t, version, ['postgres.js', DATABASE_URL, schema]);
        assert.equal(result.code, 0, describeOutput(result));
        const summary = lastJsonLine(result);
        assert.equal(summary.node, `v${version}`);
        assert.deepEqual(summary.states, ['Succeeded', 'Succeeded'], 'the plain job and the one committed in a transaction ran');
        assert.equal(summary.rolledBack, null, 'the job enqueued in a rolled back transaction does not exist');
        assert.deepEqual(summary.done, [1, 2]);
        assert.ok(summary.tables.includes('jobs'), `the store created its tables in schema ${schema}: ${summary.tables}`);
      } finally {
        const cleanup = await inApp(t, version, ['drop-schema.js', DATABASE_URL, schema]);
        assert.equal(cleanup.code, 0, describeOutput(cleanup));
        assert.deepEqual(lastJsonLine(cleanup), { remaining: 0 }, `schema ${schema} dropped`);
      }
    },
  );

  // --- 3f. The pilotlight command (npx) ---------------------------------------------------------

  test(
    `Node.js ${version}: npx pilotlight stats --json reads a store the application seeded; npx pilotlight dashboard serves GET /, receives a span over OTLP and shows its trace, until Ctrl+C`,
    { timeout: 300_000 },
    async (t) => {
      const seeded = await inApp(t, version, ['cli-seed.js', DATA]);
      assert.equal(seeded.code, 0, describeOutput(seeded));
      const { path, states } = lastJsonLine(seeded);
      assert.deepEqual(states, ['Succeeded', 'Failed'], 'the application ran its jobs');
      // The bin's shebang (#!/usr/bin/env node) runs the first node on PATH: this version's.
      const env = cleanEnv({ PATH: `${dirname(await node(version, t))}${delimiter}${cleanEnv().PATH}` });
      const which = await npx(['-c', 'node --version'], { cwd: APP, env });
      assert.equal(which.stdout.trim(), `v${version}`, `npx runs Node.js ${version}\n${describeOutput(which)}`);

      const stats = await npx(['pilotlight', 'stats', '--sqlite', path, '--json'], { cwd: APP, env, timeout: 60_000 });
      t.diagnostic(`npx pilotlight stats --json: exit ${stats.code} in ${stats.ms} ms`);
      assert.equal(stats.code, 0, describeOutput(stats));
      const summary = JSON.parse(stats.stdout);
      assert.deepEqual(summary.states, { Enqueued: 1, Scheduled: 0, Awaiting: 0, Processing: 0, Succeeded: 1, Failed: 1, Deleted: 0 });
      assert.equal(summary.total, 3);
      assert.deepEqual(
        summary.queues.map((queue: { queue: string }) => queue.queue),
        ['default', 'later'],
      );

      const dashboard = npx(['pilotlight', 'dashboard', '--port', '0', '--sqlite', path], { cwd: APP, env, group: true });
      const deadline = Date.now() + 60_000;
      let url: string | undefined;
      while ((url = /^Pilotlight dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(dashboard.output.stdout)?.[1]) === undefined) {
        assert.ok(Date.now() < deadline, `the dashboard printed no URL within 60 s\n${describeOutput(dashboard.output)}`);
        assert.equal(dashboard.child.exitCode, null, `the dashboard exited\n${describeOutput(dashboard.output)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const response = await fetch(url);
      assert.equal(response.status, 200, describeOutput(dashboard.output));
      assert.match(await response.text(), /Pilotlight/);
      // Its OTLP receiver, from the compiled package: a span sent as an exporter sends it, then its trace's page.
      const traceId = '5b8efff798038103d269b633813fc60c';
      const exported = await fetch(`${url}v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'packed-app' } }] },
              scopeSpans: [
                {
                  spans: [
                    {
                      traceId,
                      spanId: 'eee19b7ec3c1b174',
                      name: 'process Packed.job',
                      kind: 5,
                      startTimeUnixNano: `${Date.now()}000000`,
                      endTimeUnixNano: `${Date.now() + 5}000000`,
                    },
                  ],
                },
              ],
            },
          ],
        }),
      });
      assert.deepEqual([exported.status, await exported.text()], [200, '{}'], describeOutput(dashboard.output));
      const trace = await fetch(`${url}traces/${traceId}`);
      assert.equal(trace.status, 200, describeOutput(dashboard.output));
      assert.match(await trace.text(), /process Packed\.job[\s\S]*packed-app|packed-app[\s\S]*process Packed\.job/);
      // What Ctrl+C does: the whole process group, npx and the command alike, gets SIGINT. npx then
      // ends as the shell it ran the command in did, by that signal; the command closes everything,
      // says so and exits (its own exit code is tested in packages/dashboard/test/cli.test.ts).
      const stopped = performance.now();
      stopGroup(dashboard.child, 'SIGINT');
      const exited = await dashboard.exited; // once every process holding its output ended
      const ms = Math.round(performance.now() - stopped);
      t.diagnostic(
        `npx pilotlight dashboard: GET / ${response.status}; npx ended (${exited.signal ?? `exit ${exited.code}`}) ${ms} ms after SIGINT`,
      );
      assert.match(exited.stdout, /^Pilotlight dashboard stopped \(SIGINT\)\.$/m, describeOutput(exited));
      assert.doesNotMatch(exited.stderr, /pilotlight: /, `the command reported no error\n${describeOutput(exited)}`);
      assert.ok(ms < 10_000, `stopped within 10 s (${ms} ms)`);
      assert.throws(() => process.kill(-dashboard.child.pid!, 0), { code: 'ESRCH' }, 'no process of the group is left');
    },
  );
}

// --- 3b. TypeScript -----------------------------------------------------------------------------

for (const mode of [
  { name: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'bundler', module: 'esnext', moduleResolution: 'bundler' },
] as const) {
  test(
    `TypeScript (module ${mode.module}, moduleResolution ${mode.moduleResolution}, strict, skipLibCheck false): a program using every entry point type-checks`,
    { timeout: 300_000 },
    async (t) => {
      await installApp(t);
      const tsconfig = `tsconfig.${mode.name}.json`;
      const compilerOptions = {
        target: 'es2023',
        lib: ['es2023'],
        types: ['node'],
        module: mode.module,
        moduleResolution: mode.moduleResolution,
        strict: true,
        skipLibCheck: false,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
      };
      writeFileSync(join(APP, tsconfig), `${JSON.stringify({ compilerOptions, files: ['types.ts'] }, null, 2)}\n`);
      const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
      const version = await run(tsc, ['--version'], { cwd: APP });
      const result = await run(tsc, ['-p', tsconfig, '--pretty', 'false'], { cwd: APP, timeout: 120_000 });
      t.diagnostic(`${version.stdout.trim()} -p ${tsconfig}: exit ${result.code} in ${result.ms} ms`);
      assert.equal(result.code, 0, `tsc found errors:\n${result.stdout}${result.stderr}`);
      assert.equal(result.stdout.trim(), '');
    },
  );
}

// --- 3e. Node.js too old for the SQLite store ----------------------------------------------------

test(
  `Node.js ${UNSUPPORTED_NODE}: createSqliteStore() throws a PilotlightError naming ${SQLITE_MINIMUM_NODE}`,
  { timeout: 300_000 },
  async (t) => {
    const result = await inApp(t, UNSUPPORTED_NODE, ['old-node.js', DATA]);
    assert.equal(result.code, 0, `importing the packages works on ${UNSUPPORTED_NODE}\n${describeOutput(result)}`);
    const summary = lastJsonLine(result);
    t.diagnostic(`error: ${summary.name} [${summary.code}]: ${summary.message}`);
    assert.equal(summary.node, `v${UNSUPPORTED_NODE}`);
    assert.equal(summary.threw, true, 'the store refuses to start');
    assert.equal(summary.pilotlightError, true, 'instanceof PilotlightError');
    assert.equal(summary.name, 'PilotlightError');
    assert.equal(summary.code, 'UNSUPPORTED_RUNTIME', 'the error code (packages/pilotlight/src/errors.ts ErrorCodes)');
    assert.ok(summary.message.includes(SQLITE_MINIMUM_NODE), summary.message);
    assert.ok(summary.message.includes(UNSUPPORTED_NODE), `the message says which Node.js this is: ${summary.message}`);
  },
);
