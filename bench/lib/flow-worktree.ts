import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A detached git worktree of an older revision, to run the same bench scenario against the code as it was. */
export interface BaselineTree {
  /** The worktree's root directory. */
  readonly root: string;
  /** The full commit hash it is checked out at. */
  readonly commit: string;
  /** `<short hash> <subject>`, for the report. */
  readonly description: string;
  /** Removes the worktree (and its directory) from the repository. */
  remove(): Promise<void>;
}

/**
 * Checks out `revision` of the repository at `repoRoot` into a temporary directory
 * (`git worktree add --detach`), with a `node_modules` that resolves like the main checkout's but
 * points the workspace packages at the worktree's own packages.
 *
 * A plain symlink of the main `node_modules` would not do: Node resolves symlinks to real paths, so
 * the worktree's `packages/postgres` importing `pilotlight` would load the MAIN checkout's core
 * through `node_modules/pilotlight -> ../packages/pilotlight`. Instead, the worktree gets a
 * `node_modules` directory of its own where every third-party entry links to the main checkout's
 * copy (absolute), and every workspace link (relative, such as `pilotlight -> ../packages/pilotlight`)
 * is recreated with the same relative target, so it lands inside the worktree.
 */
export async function addBaselineWorktree(repoRoot: string, revision: string): Promise<BaselineTree> {
  const commit = (await git(repoRoot, 'rev-parse', '--verify', `${revision}^{commit}`)).trim();
  const description = (await git(repoRoot, 'log', '-1', '--format=%h %s', commit)).trim();
  const root = await mkdtemp(join(tmpdir(), 'pilotlight-baseline-'));
  await git(repoRoot, 'worktree', 'add', '--detach', root, commit);
  const remove = async () => {
    await git(repoRoot, 'worktree', 'remove', '--force', root).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await git(repoRoot, 'worktree', 'prune');
  };
  try {
    await mirrorNodeModules(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  } catch (error) {
    await remove();
    throw error;
  }
  return { root, commit, description, remove };
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', ['-C', cwd, ...args], { maxBuffer: 16 * 2 ** 20 })).stdout;
}

/** Links every entry of `from` into `to` (see `addBaselineWorktree`); scope folders (`@scope/`) are mirrored one level down. */
async function mirrorNodeModules(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    const source = join(from, name);
    const info = await lstat(source);
    if (info.isSymbolicLink()) {
      // A workspace package's link is relative: copied as it is, it resolves inside the worktree.
      await symlink(await readlink(source), join(to, name));
    } else if (name.startsWith('@') && info.isDirectory()) {
      await mirrorNodeModules(source, join(to, name));
    } else {
      await symlink(source, join(to, name));
    }
  }
}
