/**
 * Builds one package for publishing: `dist/` (ESM JavaScript, `.d.ts`, source maps with their
 * sources inlined) from a clean slate, and the repository's LICENSE beside its package.json. For
 * `pilotlight`, whose README is the repository's, it also writes packages/pilotlight/README.md
 * (gitignored) from the root README.md with its relative links made absolute, so that they work on
 * the registry's page.
 * `npm pack` runs it (prepack); inside the repository nothing needs a build, because the
 * `@pilotlight/source` export condition points Node and TypeScript at `src/`.
 *
 *   node scripts/build.ts <package folder name>...    e.g. node scripts/build.ts pilotlight postgres
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Packages whose types another package's build reads, built first. */
const BUILT_BEFORE: Record<string, readonly string[]> = { postgres: ['pilotlight'], dashboard: ['pilotlight', 'postgres'] };
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
  if (name === 'pilotlight') writePackageReadme(dir);
}

/**
 * packages/pilotlight/README.md: the root README.md with every relative link and image (`](path)`,
 * `[label]: path`, `src="path"`, `href="path"`) made an absolute URL on the repository named by the
 * package's `repository` field: `<repo>/blob/main/<path>` for files, `<repo>/tree/main/<path>` for
 * folders, `<repo>/raw/main/<path>` for images (npm would show a GitHub page in their place).
 * Anchors (`#...`), absolute URLs and code (fenced blocks, inline code spans) are left alone.
 */
function writePackageReadme(dir: string): void {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { repository?: { url?: string } };
  const repository = /^(?:git\+)?(https:\/\/github\.com\/[^/]+\/[^/]+?)(?:\.git)?$/.exec(pkg.repository?.url ?? '')?.[1];
  if (repository === undefined) {
    console.error(`packages/pilotlight/package.json: repository.url must be a GitHub URL; received ${pkg.repository?.url}`);
    process.exit(1);
  }
  const absolute = (target: string, image: boolean): string => {
    if (target === '' || target.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return target;
    const [path = '', anchor] = target.split(/(?=#)/);
    const clean = posix
      .normalize(path)
      .replace(/^(\.\/)+/, '')
      .replace(/\/$/, '');
    if (clean.startsWith('../')) {
      console.error(`README.md links outside the repository: ${target}`);
      process.exit(1);
    }
    const onDisk = join(root, clean);
    const kind = image ? 'raw' : existsSync(onDisk) && statSync(onDisk).isDirectory() ? 'tree' : 'blob';
    return `${repository}/${kind}/main/${clean}${anchor ?? ''}`;
  };
  const inline = (target: string, image: boolean): string =>
    target.startsWith('<') ? `<${absolute(target.slice(1, -1), image)}>` : absolute(target, image);
  const rewrite = (text: string): string =>
    text
      .replace(/(!\[[^\]]*\]\(\s*)(<[^>]*>|[^)\s]+)/g, (_, before: string, target: string) => before + inline(target, true))
      .replace(/(\]\(\s*)(<[^>]*>|[^)\s]+)/g, (_, before: string, target: string) => before + inline(target, false))
      .replace(
        /^(\s{0,3}\[[^\]]+\]:\s*)(\S+)/,
        (_, label: string, target: string) => label + absolute(target, /\.(png|jpe?g|gif|svg|webp)$/i.test(target)),
      )
      .replace(
        /\b(src|href)=(["'])([^"']*)\2/g,
        (_, attribute: string, quote: string, target: string) => `${attribute}=${quote}${absolute(target, attribute === 'src')}${quote}`,
      );
  let fence: string | undefined;
  const lines = readFileSync(join(root, 'README.md'), 'utf8')
    .split('\n')
    .map((line) => {
      const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence !== undefined) {
        if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
        return line;
      }
      if (marker !== undefined) {
        fence = marker;
        return line;
      }
      // Outside code spans only: `a](b)` inside backticks is code, not a link.
      const spans: string[] = [];
      const hidden = line.replace(/(`+).*?(?<!`)\1(?!`)/g, (span) => `\u0000${spans.push(span) - 1}\u0000`);
      return rewrite(hidden).replace(/\u0000(\d+)\u0000/g, (_, i: string) => spans[Number(i)]!);
    });
  writeFileSync(join(dir, 'README.md'), lines.join('\n'));
}

const names = process.argv.slice(2);
if (names.length === 0) {
  console.error('usage: node scripts/build.ts <package folder name>...');
  process.exit(2);
}
for (const name of names) build(name);
