/**
 * An application bundled with esbuild, pilotlight included (ESM and CommonJS bundles, platform node):
 * a SQLite store, a worker, 9 jobs. The bundle runs from a folder with no node_modules and must
 * execute exactly 9 jobs, run its own top-level code exactly once, start one worker thread (the
 * store's checkpointer) and end by itself.
 *
 * Why: the checkpoint thread was once started with `new Worker(new URL(import.meta.url))`. In a
 * bundle that URL is the whole application, so every store reran the application on its thread,
 * which opened another store, and so on (228 executions instead of 9, 32 threads); in a CommonJS
 * bundle `import.meta.url` is empty and the store failed. The thread now starts from source text
 * (`eval: true`, packages/pilotlight/src/storage/sqlite/checkpoint-thread.ts).
 *
 * pilotlight is compiled here as `npm pack` compiles it (its tsconfig.build.json), into a folder of
 * this test's own, so that this file never races packed-packages.test.ts over packages/pilotlight/dist.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import { cleanEnv, describeOutput, FIXTURES, killAll, lastJsonLine, ROOT, run } from './support.ts';

const WORK = mkdtempSync(join(tmpdir(), 'pilotlight-bundle-'));
const PACKAGE_DIR = join(WORK, 'app', 'node_modules', 'pilotlight');
const JOBS = 9;

after(() => {
  killAll();
  rmSync(WORK, { recursive: true, force: true });
});

before(
  async () => {
    mkdirSync(PACKAGE_DIR, { recursive: true });
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    const build = await run(
      tsc,
      ['-p', join(ROOT, 'packages', 'pilotlight', 'tsconfig.build.json'), '--outDir', join(PACKAGE_DIR, 'dist'), '--declaration', 'false'],
      {
        cwd: ROOT,
        timeout: 120_000,
      },
    );
    assert.equal(build.code, 0, `compiling pilotlight failed\n${describeOutput(build)}`);
    copyFileSync(join(ROOT, 'packages', 'pilotlight', 'package.json'), join(PACKAGE_DIR, 'package.json'));
    mkdirSync(join(WORK, 'app', 'src'), { recursive: true });
    copyFileSync(join(FIXTURES, 'bundle', 'app.js'), join(WORK, 'app', 'src', 'app.js'));
  },
  { timeout: 180_000 },
);

for (const format of ['esm', 'cjs'] as const) {
  test(
    `${format === 'esm' ? 'an ES module' : 'a CommonJS'} bundle with pilotlight inside runs 9 jobs, its own code once, one worker thread, and exits by itself`,
    { timeout: 120_000 },
    async (t) => {
      const outDir = mkdtempSync(join(WORK, `run-${format}-`));
      const outfile = join(outDir, format === 'esm' ? 'app.mjs' : 'app.cjs');
      const result = await esbuild.build({
        entryPoints: [join(WORK, 'app', 'src', 'app.js')],
        outfile,
        bundle: true,
        platform: 'node',
        format,
        target: 'node22',
        // pilotlight comes from the app's node_modules; its own dependencies (croner,
        // @opentelemetry/api) from the repository's, as if the app had installed them.
        nodePaths: [join(ROOT, 'node_modules')],
        metafile: true,
        logLevel: 'silent',
      });
      const inputs = Object.keys(result.metafile.inputs);
      const bundled = inputs.filter((input) => input.includes('node_modules/pilotlight/dist/'));
      t.diagnostic(
        `esbuild ${format}: ${inputs.length} inputs (${bundled.length} from pilotlight), ${Math.round(readFileSync(outfile).length / 1024)} KiB`,
      );
      assert.deepEqual(result.errors, []);
      assert.deepEqual(
        result.warnings.map((warning) => `${warning.location?.file}:${warning.location?.line}: ${warning.text}`),
        [],
        'esbuild warned (an import.meta in a CommonJS bundle, a dynamic require...)',
      );
      assert.ok(
        bundled.some((input) => input.endsWith('storage/sqlite/checkpointer.js')),
        'pilotlight (its checkpointer included) is inside the bundle',
      );
      assert.ok(
        !inputs.some((input) => input.includes('/src/') && input.includes('packages/pilotlight')),
        'the bundle holds compiled JavaScript, not the repository sources',
      );

      // Run from a folder with no node_modules anywhere above it that holds pilotlight: only the bundle.
      const dataDir = join(outDir, 'data');
      mkdirSync(dataDir);
      const run1 = await run(process.execPath, [outfile], { cwd: outDir, env: cleanEnv({ BUNDLE_APP_DIR: dataDir }), timeout: 60_000 });
      t.diagnostic(`the ${format} bundle ran in ${run1.ms} ms`);
      assert.equal(run1.code, 0, `the bundle failed\n${describeOutput(run1)}`);
      const starts = readLines(join(dataDir, 'starts.log'));
      const executions = readLines(join(dataDir, 'executions.log'));
      const summary = lastJsonLine(run1);
      t.diagnostic(`summary: ${JSON.stringify(summary)}; top-level runs: ${starts.length}; executions: ${executions.length}`);
      assert.equal(starts.length, 1, `the program's top-level code ran ${starts.length} times:\n${starts.join('\n')}`);
      assert.equal(executions.length, JOBS, `jobs executed ${executions.length} times in all threads:\n${executions.join('\n')}`);
      assert.equal(run1.stdout.trim().split('\n').length, 1, `one summary line expected\n${describeOutput(run1)}`);
      assert.equal(summary.isMainThread, true);
      assert.equal(summary.executions, JOBS, 'the main thread ran every job');
      assert.deepEqual(summary.states, Array(JOBS).fill('Succeeded'));
      assert.equal(summary.workerThreadsStarted, 1, 'one worker thread: the store checkpointer');
      if (summary.threadsWhileRunning !== null) {
        assert.ok(
          summary.threadsWhileRunning <= 16,
          `${summary.threadsWhileRunning} OS threads while running (a Node.js process with one worker thread has about 8-12)`,
        );
      }
    },
  );
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
