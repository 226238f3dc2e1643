/**
 * Every ```ts block of README.md and packages/<name>/README.md compiles.
 *
 * Each block becomes a module of its own in a temporary folder inside the repository, so that
 * `pilotlight`, `@pilotlight/postgres`, `pg`... resolve through the workspace's node_modules (with
 * the `@pilotlight/source` condition of tsconfig.base.json: the source, no build needed), and all
 * are type-checked by one run of the repository's tsc, strict. Errors are reported at the README's
 * file and line.
 *
 * A block that uses names the reader obviously supplies (their DI container, their own helpers)
 * declares them in an HTML comment right before its fence, which GitHub and npm do not show:
 *
 *   <!-- ts-check-preamble: declare const container: { resolve<T>(c: new () => T): T }; -->
 *   ```ts
 *
 * Prefer blocks that are self-contained. Blocks that are not TypeScript use other fences
 * (```sh, ```text, or none).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codeBlocks, readmes, ROOT } from './markdown.ts';

const TS_FENCES = new Set(['ts', 'typescript', 'mts']);
const dir = join(ROOT, '.tmp', `readme-code-${process.pid}`);

interface Module {
  readonly file: string;
  /** Where the block is: `README.md`, and the line of its opening fence. */
  readonly readme: string;
  readonly fenceLine: number;
  readonly preambleLines: number;
}

interface Diagnostic {
  readonly module: Module;
  /** `README.md:63:5`, or `README.md:62 (preamble)` for an error in the hidden preamble. */
  readonly at: string;
  readonly line: number | undefined;
  readonly code: string;
  readonly message: string;
}

/** A block with a deliberate error: proves, on every run, that errors are found and placed right. */
const CANARY = { readme: 'canary (not a README)', fenceLine: 100, code: "const fine = 1;\nconst broken: number = 'not a number';" };
const CANARY_ERROR_LINE = 102;

function writeModule(name: string, readme: string, fenceLine: number, code: string, preamble: string | undefined): Module {
  const file = `${name}.ts`;
  const head = preamble === undefined ? [] : preamble.split('\n');
  writeFileSync(join(dir, file), [...head, code, 'export {};', ''].join('\n'));
  return { file, readme, fenceLine, preambleLines: head.length };
}

interface Result {
  readonly modules: Module[];
  readonly diagnostics: Diagnostic[];
  /** Errors tsc found in the files the blocks import (the packages themselves), not in a block. */
  readonly elsewhere: string[];
  readonly output: string;
}

function typeCheck(): Result {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const modules: Module[] = [];
  for (const readme of readmes()) {
    const base = readme.path.replace(/\/?README\.md$/, '').replace(/\//g, '-') || 'root';
    for (const block of codeBlocks(readme.text)) {
      if (!TS_FENCES.has(block.lang)) continue;
      modules.push(writeModule(`${base}-L${block.fenceLine}`, readme.path, block.fenceLine, block.code, block.preamble));
    }
  }
  modules.push(writeModule('canary', CANARY.readme, CANARY.fenceLine, CANARY.code, undefined));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true, strict: true }, include: ['*.ts'] }, null, 2),
  );
  const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (tsc.error) throw tsc.error;
  const output = `${tsc.stdout}${tsc.stderr}`;
  const byFile = new Map(modules.map((module) => [module.file, module]));
  const diagnostics: Diagnostic[] = [];
  const elsewhere: string[] = [];
  for (const match of output.matchAll(/^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*(?:\n(?!\S+\(\d+,\d+\): ).*)*)/gm)) {
    const module = /^[^\\/]+$/.test(match[1]!) ? byFile.get(match[1]!) : undefined;
    if (module === undefined) {
      elsewhere.push(match[0].replace(/^(\.\.\/)+/, ''));
      continue;
    }
    const moduleLine = Number(match[2]);
    const inPreamble = moduleLine <= module.preambleLines;
    const line = inPreamble ? undefined : module.fenceLine + moduleLine - module.preambleLines;
    diagnostics.push({
      module,
      at: inPreamble ? `${module.readme}:${module.fenceLine} (preamble)` : `${module.readme}:${line}:${match[3]}`,
      line,
      code: match[4]!,
      message: match[5]!.trim(),
    });
  }
  // Anything tsc said that is not a diagnostic (a bad tsconfig, a crash) is a failure too.
  if (tsc.status !== 0 && diagnostics.length === 0 && elsewhere.length === 0)
    elsewhere.push(`tsc failed without diagnostics (status ${tsc.status}):\n${output}`);
  return { modules, diagnostics, elsewhere, output };
}

describe('README code blocks', () => {
  let result: Result;
  before(() => {
    result = typeCheck();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the harness finds and places a deliberate error (canary block)', () => {
    const canary = result.diagnostics.filter((d) => d.module.readme === CANARY.readme);
    assert.deepEqual(
      canary.map((d) => [d.line, d.code]),
      [[CANARY_ERROR_LINE, 'TS2322']],
      `the canary block's type error was not reported where it is:\n${result.output}`,
    );
  });

  it('every ```ts block of README.md and packages/*/README.md type-checks (strict)', (t) => {
    const blocks = result.modules.filter((m) => m.readme !== CANARY.readme);
    t.diagnostic(
      `${blocks.length} blocks: ${[...new Set(blocks.map((m) => m.readme))].map((r) => `${r} ${blocks.filter((m) => m.readme === r).length}`).join(', ')}`,
    );
    assert.ok(blocks.length > 0, 'no ```ts block found: is the fence parser broken?');
    const errors = result.diagnostics.filter((d) => d.module.readme !== CANARY.readme);
    assert.equal(
      errors.length,
      0,
      `README code that does not compile:\n${errors.map((d) => `  ${d.at} ${d.code}: ${d.message}`).join('\n')}`,
    );
    assert.equal(result.elsewhere.length, 0, `the code the README blocks import does not compile:\n${result.elsewhere.join('\n')}`);
  });
});
