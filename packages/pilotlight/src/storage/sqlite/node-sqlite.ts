import type * as NodeSqlite from 'node:sqlite';
import { ErrorCodes, PilotlightError } from '../../errors.ts';

/**
 * The lowest Node.js release whose built-in `node:sqlite` the store runs on: 22.13 is the first
 * release with `node:sqlite` usable without a flag. The `engines` field of package.json says the
 * same and the packed-package test runs it.
 */
export const MINIMUM_NODE_VERSION = '22.13.0';

/** Who asks for `node:sqlite`, as its error names them. */
export interface NodeSqliteUser {
  /** @default 'The SQLite store' */
  readonly name?: string;
  /** What to do instead, after "Upgrade Node.js, or". @default 'use another store such as @pilotlight/postgres' */
  readonly alternative?: string;
  /** The running release unless a test says otherwise. @default process.versions.node */
  readonly nodeVersion?: string;
}

/**
 * Loads `node:sqlite` when a store is created rather than when the module is imported, so that an
 * older Node.js gets an error saying what to upgrade to (instead of `ERR_UNKNOWN_BUILTIN_MODULE`
 * at import, or a store that fails on its first statement). Exported by `pilotlight/store-kit` for
 * other SQLite stores (the dashboard's trace store).
 */
export function loadNodeSqlite(user: NodeSqliteUser = {}): typeof NodeSqlite {
  const {
    name = 'The SQLite store',
    alternative = 'use another store such as @pilotlight/postgres',
    nodeVersion = process.versions.node,
  } = user;
  const sqlite = isAtLeastVersion(nodeVersion, MINIMUM_NODE_VERSION)
    ? (process.getBuiltinModule?.('node:sqlite') as typeof NodeSqlite | undefined)
    : undefined;
  if (!sqlite) {
    throw new PilotlightError(
      ErrorCodes.UNSUPPORTED_RUNTIME,
      `${name} needs Node.js ${MINIMUM_NODE_VERSION} or later (its built-in node:sqlite); this is Node.js ${nodeVersion}. ` +
        `Upgrade Node.js, or ${alternative}.`,
    );
  }
  return sqlite;
}

/** Whether the release `version` (`22.13.0`) is `minimum` or later. */
export function isAtLeastVersion(version: string, minimum: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  const [minMajor = 0, minMinor = 0, minPatch = 0] = minimum.split('.').map(Number);
  return major !== minMajor ? major > minMajor : minor !== minMinor ? minor > minMinor : patch >= minPatch;
}
