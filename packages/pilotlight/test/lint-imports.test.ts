import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './support/helpers.ts';

const script = join(import.meta.dirname, '../../../scripts/lint-imports.ts');

/** Runs the checker on `root` (a repository with a packages/ folder); its exit status and printed lines. */
function lint(root?: string): { status: number | null; lines: string[] } {
  const run = spawnSync(process.execPath, root === undefined ? [script] : [script, root], { encoding: 'utf8' });
  assert.equal(run.stderr, '');
  return { status: run.status, lines: run.stdout.trim().split('\n') };
}

/** A repository of `files` (path → content) in a fresh directory. */
function tree(files: Record<string, string>): string {
  const root = tempDir();
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  }
  return root;
}

const manifest = (name: string, exports: string[]) =>
  JSON.stringify({
    name,
    exports: Object.fromEntries(exports.map((subpath) => [subpath, `./src/${subpath === '.' ? 'index' : subpath.slice(2)}.ts`])),
  });

/** A small tree that follows every rule: each violation test adds one file to it. */
const clean = {
  'packages/pilotlight/package.json': manifest('pilotlight', ['.', './store-kit']),
  'packages/pilotlight/src/types.ts': 'export type Id = string;\n',
  'packages/pilotlight/src/errors.ts': 'export class PilotlightError extends Error {}\n',
  'packages/pilotlight/src/validation/validate.ts':
    "import { PilotlightError } from '../errors.ts';\nimport { LIMIT } from './limits.ts';\nexport { PilotlightError, LIMIT };\n",
  'packages/pilotlight/src/validation/limits.ts': 'export const LIMIT = 1;\n',
  'packages/pilotlight/src/client/client.ts':
    "import type { Id } from '../types.ts';\nexport const load = () => import('../validation/validate.ts');\nexport type { Id };\n",
  'packages/pilotlight/src/index.ts': "export * from './client/client.ts';\n",
  'packages/pilotlight/src/store-kit.ts': "export { PilotlightError } from './errors.ts';\n",
  'packages/postgres/package.json': manifest('@pilotlight/postgres', ['.']),
  'packages/postgres/src/index.ts':
    "import { PilotlightError } from 'pilotlight/store-kit';\nimport pg from 'pg';\nexport { PilotlightError, pg };\n",
};

describe('scripts/lint-imports.ts', () => {
  it('passes this repository', () => {
    const { status, lines } = lint();
    assert.equal(status, 0, lines.join('\n'));
    assert.match(lines[0]!, /^lint-imports: \d+ files of \d+ packages, \d+ imports, every one pointing down the layers$/);
  });

  it('passes a tree whose imports all point down, with a one-line summary', () => {
    const { status, lines } = lint(tree(clean));
    assert.equal(status, 0, lines.join('\n'));
    assert.deepEqual(lines, ['lint-imports: 8 files of 2 packages, 8 imports, every one pointing down the layers']);
  });

  it('reports an import from a higher layer, with file, line and both layers, and exits 1', () => {
    const root = tree({
      ...clean,
      'packages/pilotlight/src/validation/validate.ts':
        "import { PilotlightError } from '../errors.ts';\n\nimport type {\n  Id,\n} from '../client/client.ts';\nexport { PilotlightError };\n",
    });
    const { status, lines } = lint(root);
    assert.equal(status, 1);
    assert.deepEqual(lines, [
      'packages/pilotlight/src/validation/validate.ts:5 imports client/client.ts (layer 8: client) from layer 2: validation (a higher layer)',
      'lint-imports: 1 violation(s) in 8 files',
    ]);
  });

  it('reports dynamic imports and siblings of one layer importing each other', () => {
    const root = tree({
      ...clean,
      'packages/pilotlight/src/server/worker.ts': "export const client = () => import('../client/client.ts');\n",
      'packages/pilotlight/src/errors.ts':
        "import type { Id } from './types.ts';\nexport class PilotlightError extends Error { id?: Id; }\n",
    });
    const { status, lines } = lint(root);
    assert.equal(status, 1);
    assert.deepEqual(lines.slice(0, -1), [
      'packages/pilotlight/src/errors.ts:1 imports types.ts (layer 0: types.ts) from layer 0: errors.ts (siblings in one layer may not import each other)',
      'packages/pilotlight/src/server/worker.ts:1 imports client/client.ts (layer 8: client) from layer 8: server (siblings in one layer may not import each other)',
    ]);
  });

  it('reports a file in a folder the table does not place, and relative imports of it', () => {
    const root = tree({
      ...clean,
      'packages/pilotlight/src/newfolder/thing.ts': 'export const thing = 1;\n',
      'packages/pilotlight/src/client/uses-thing.ts': "export { thing } from '../newfolder/thing.ts';\n",
    });
    const { status, lines } = lint(root);
    assert.equal(status, 1);
    assert.deepEqual(lines.slice(0, -1), [
      'packages/pilotlight/src/client/uses-thing.ts:1 imports newfolder/thing.ts (newfolder, not in the layer table) from layer 8: client',
      'packages/pilotlight/src/newfolder/thing.ts:1 is in newfolder, which the layer table of scripts/lint-imports.ts does not place: add it to a layer',
    ]);
  });

  it("lays out the dashboard by top folder: a sub-folder is its folder's, an import up or into an unplaced folder is reported", () => {
    const dashboard = {
      'packages/dashboard/package.json': manifest('@pilotlight/dashboard', ['.']),
      'packages/dashboard/src/html/template.ts': 'export const html = 1;\n',
      'packages/dashboard/src/cli/format.ts': "export { html } from '../html/template.ts';\n",
      'packages/dashboard/src/cli/commands/jobs.ts':
        "export { html } from '../format.ts';\nexport const run = () => import('../../index.ts');\n",
      'packages/dashboard/src/index.ts': "export { html } from './html/template.ts';\n",
    };
    const { status, lines } = lint(tree({ ...clean, ...dashboard }));
    assert.equal(status, 0, lines.join('\n'));
    const root = tree({
      ...clean,
      ...dashboard,
      'packages/dashboard/src/html/layout.ts': "export { run } from '../cli/commands/jobs.ts';\n",
      'packages/dashboard/src/widgets/chart.ts': 'export const chart = 1;\n',
    });
    const failed = lint(root);
    assert.equal(failed.status, 1);
    assert.deepEqual(failed.lines.slice(0, -1), [
      'packages/dashboard/src/html/layout.ts:1 imports cli/commands/jobs.ts (layer 9: cli) from layer 3: html (a higher layer)',
      'packages/dashboard/src/widgets/chart.ts:1 is in widgets, which the layer table of scripts/lint-imports.ts does not place: add it to a layer',
    ]);
  });

  it("reports a relative import out of a package's src, and a package subpath it does not export", () => {
    const root = tree({
      ...clean,
      'packages/postgres/src/store.ts':
        "import { PilotlightError } from '../../pilotlight/src/errors.ts';\nimport { x } from 'pilotlight/src/validation/limits.ts';\nexport { PilotlightError, x };\n",
    });
    const { status, lines } = lint(root);
    assert.equal(status, 1);
    assert.deepEqual(lines.slice(0, -1), [
      "packages/postgres/src/store.ts:1 imports ../../pilotlight/src/errors.ts, outside its package's src: import another package by its name",
      'packages/postgres/src/store.ts:2 imports pilotlight/src/validation/limits.ts, which pilotlight does not export (its exports: ., ./store-kit)',
    ]);
  });
});
