/**
 * The READMEs' links lead somewhere: relative links and links to this repository on GitHub name a
 * file or folder that exists (and a heading that exists, for an anchor), and the READMEs shipped in
 * a package on their own (packages/<name>/README.md) use no relative link, which the registry's
 * page could not follow. (README.md's relative links are made absolute by `scripts/build.ts` in the
 * copy the `pilotlight` package ships.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { anchors, links, readmes, REPOSITORY, ROOT } from './markdown.ts';

/** What a link points at in the repository, or undefined for a link elsewhere. */
function resolveTarget(readmePath: string, target: string): { path: string; anchor: string | undefined } | undefined {
  const [location = '', anchor] = target.split('#', 2) as [string, string | undefined];
  if (target.startsWith(REPOSITORY)) {
    const rest = location.slice(REPOSITORY.length);
    // The repository's page: `#readme` is GitHub's anchor of the README shown there.
    if (rest === '' || rest === '/') return { path: 'README.md', anchor: anchor === 'readme' ? undefined : anchor };
    const inRepo = /^\/(?:blob|tree|raw)\/main\/(.+?)\/?$/.exec(rest);
    return inRepo ? { path: inRepo[1]!, anchor } : undefined; // /issues, /pulls...
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  if (location === '') return { path: readmePath, anchor };
  return { path: posix.normalize(posix.join(dirname(readmePath), location)), anchor };
}

describe('README links', () => {
  for (const readme of readmes()) {
    it(`${readme.path}: every link into the repository names a file, folder and heading that exist`, () => {
      const broken: string[] = [];
      for (const link of links(readme.text)) {
        const resolved = resolveTarget(readme.path, link.target);
        if (resolved === undefined) continue;
        const onDisk = join(ROOT, resolved.path);
        if (resolved.path.startsWith('..') || !existsSync(onDisk)) {
          broken.push(`${readme.path}:${link.line} ${link.target}: no such file or folder (${resolved.path})`);
          continue;
        }
        if (resolved.anchor !== undefined && resolved.anchor !== '' && statSync(onDisk).isFile() && onDisk.endsWith('.md')) {
          if (!anchors(readFileSync(onDisk, 'utf8')).has(resolved.anchor)) {
            broken.push(`${readme.path}:${link.line} ${link.target}: no heading '#${resolved.anchor}' in ${resolved.path}`);
          }
        }
      }
      assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
    });

    if (readme.packaged) {
      it(`${readme.path}: no relative link (it is shown on the registry's page, away from the repository)`, () => {
        const relative = links(readme.text).filter((link) => !link.target.startsWith('#') && !/^[a-z][a-z0-9+.-]*:/i.test(link.target));
        assert.deepEqual(
          relative.map((link) => `${readme.path}:${link.line} ${link.target}`),
          [],
          `use ${REPOSITORY}/blob/main/<path> instead`,
        );
      });
    }
  }
});
