/**
 * Builds one package for publishing: `dist/` (ESM JavaScript, `.d.ts`, source maps with their
 * sources inlined) from a clean slate, and the repository's LICENSE beside its package.json.
 * `npm pack` runs it (prepack); inside the repository nothing needs a build, because the
 * `@pilotlight/source` export condition points Node and TypeScript at `src/`.
 *
 *   node scripts/build.ts <package folder name>...    e.g. node scripts/build.ts pilotlight postgres
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Packages whose types another package's build reads, built first. */
const BUILT_BEFORE: Record<string, readonly string[]> = { postgres: ['pilotlight'] };
const tsc = join(root, 'node_modules', '.bin', 'tsc');

const built = new Set<string>();
function build(name: string): void {
  if (built.has(name)) return;
  built.add(name);
  for (const dependency of BUILT_BEFORE[name] ?? []) build(dependency);
  const dir = join(root, 'packages', name);
  if (!existsSync(join(dir, 'tsconfig.build.json'))) {
    console.error(`packages/${name} has no tsconfig.build.json: is ${name} a package folder?`);
    process.exit(2);
  }
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  try {
    execFileSync(tsc, ['-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  } catch {
    console.error(`The build of packages/${name} failed (the TypeScript errors are above).`);
    process.exit(1);
  }
  copyFileSync(join(root, 'LICENSE'), join(dir, 'LICENSE'));
}

const names = process.argv.slice(2);
if (names.length === 0) {
  console.error('usage: node scripts/build.ts <package folder name>...');
  process.exit(2);
}
for (const name of names) build(name);
