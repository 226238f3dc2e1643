/**
 * Checks the import rules of the packages (`npm run lint`; no dependencies):
 *
 * - in `packages/pilotlight/src` and `packages/dashboard/src`, every relative import points down the
 *   layers of the package's table in `LAYER_TABLES`: a file may import from its own folder or from a
 *   strictly lower layer, never from a higher one nor from a sibling of its own layer; every file must
 *   sit in a folder (or be a root file) that the table places, so a new folder has to be given its
 *   layer;
 * - in every `packages/<name>/src`, no relative import leaves that `src` (another package is reached
 *   through its name), and an import of a workspace package by name uses one of its `exports`.
 *
 * Relative imports are `import … from`, `export … from`, `import type …`, `import '…'` and
 * `import('…')`. Usage: `node scripts/lint-imports.ts [root]`, root being the repository (default:
 * the one this script is in). Prints each violation and exits 1, or prints a one-line summary.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface LayerTable {
  /** Bottom first. An entry is a folder (the files directly in it) or a file at the root of `src`. */
  readonly layers: readonly (readonly string[])[];
  /** A folder's sub-folders belong to its entry (`cli/commands` is `cli`); otherwise each sub-folder is an entry of its own. */
  readonly wholeFolders: boolean;
}

/** The layered packages, by folder name under `packages/`. */
const LAYER_TABLES: Readonly<Record<string, LayerTable>> = {
  pilotlight: {
    layers: [
      /* 0 */ ['types.ts', 'errors.ts'], // records and terminology, error classes and codes
      /* 1 */ ['util'], // logger, batcher, error details and other small helpers
      /* 2 */ ['validation'], // input checks and the fixed limits they apply
      /* 3 */ ['config'], // every default, option resolution
      /* 4 */ ['jobs', 'recurring', 'storage'], // job definitions, cron schedules, the Store interface and its helpers
      /* 5 */ ['storage/sqlite', 'storage/contract', 'filters'], // the SQLite store, the store contract suite, the filter API
      /* 6 */ ['states', 'telemetry'], // the state machine and its filters, tracing
      /* 7 */ ['engine'], // what clients and workers share: job creation, recurring occurrences, the built-in pipeline
      /* 8 */ ['client', 'server', 'tasks'], // the client, the worker, the in-process task manager
      /* 9 */ ['index.ts', 'sqlite.ts', 'store-kit.ts', 'testing.ts', 'semconv.ts'], // the entry points (package.json exports)
    ],
    wholeFolders: false,
  },
  dashboard: {
    layers: [
      /* 0 */ ['spans'], // the span model, the TraceStore interface and the conditions of a trace query
      /* 1 */ ['config'], // every default and limit, the options and their validation
      /* 2 */ ['traces'], // OTLP decoding, the trace stores, ingestion and retention, the query parser
      /* 3 */ ['html'], // the escaping template and what pages are made of: layout, links, formats, the chart
      /* 4 */ ['data'], // reads shaped for display (the overview, also sent as JSON)
      /* 5 */ ['actions'], // requeue, delete, trigger, remove, bulk: through the Client
      /* 6 */ ['pages'], // one file per page
      /* 7 */ ['http'], // routing, access, CSRF and origin checks, forms, assets, the handler
      /* 8 */ ['index.ts'], // the entry point
      /* 9 */ ['cli'], // the command line (the `pilotlight` bin), on top of everything
    ],
    wholeFolders: true,
  },
};

const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
const packagesDir = path.join(root, 'packages');

const layerOf = new Map<LayerTable, Map<string, number>>(
  Object.values(LAYER_TABLES).map((table) => [
    table,
    new Map(table.layers.flatMap((entries, layer) => entries.map((entry) => [entry, layer] as const))),
  ]),
);

/** `import … from '…'` and `export … from '…'` (also spread over several lines), `import '…'`, `import('…')`. */
const STATIC_IMPORT = /^[ \t]*(?:import|export)\s+(?:type\s+)?[\w$*{},\s]*?\bfrom\s*(['"])([^'"\n]+)\1/gm;
const SIDE_EFFECT_IMPORT = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;

interface Import {
  readonly specifier: string;
  readonly line: number;
}

function importsOf(source: string): Import[] {
  const found: Import[] = [];
  for (const pattern of [STATIC_IMPORT, SIDE_EFFECT_IMPORT, DYNAMIC_IMPORT]) {
    for (const match of source.matchAll(pattern)) {
      const at = match.index + match[0].lastIndexOf(match[2]!);
      found.push({ specifier: match[2]!, line: source.slice(0, at).split('\n').length });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** A file's entry in its table: its folder relative to `src` (or the top one, with `wholeFolders`), or its own name at the root. */
function unitOf(relativeToSrc: string, table: LayerTable | undefined): string {
  const dir = path.posix.dirname(relativeToSrc);
  if (dir === '.') return relativeToSrc;
  return table?.wholeFolders ? dir.split('/')[0]! : dir;
}

function describeLayer(unit: string, table: LayerTable): string {
  const layer = layerOf.get(table)!.get(unit);
  return layer === undefined ? `${unit}, not in the layer table` : `layer ${layer}: ${unit}`;
}

/** Workspace packages by name, with the subpaths their package.json exports. */
function workspacePackages(names: readonly string[]): Map<string, Set<string>> {
  const packages = new Map<string, Set<string>>();
  for (const name of names) {
    const manifest = path.join(packagesDir, name, 'package.json');
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; exports?: Record<string, unknown> | string };
    if (!json.name) continue;
    const exported = typeof json.exports === 'object' && json.exports !== null ? Object.keys(json.exports) : ['.'];
    packages.set(json.name, new Set(exported));
  }
  return packages;
}

const violations: string[] = [];
let fileCount = 0;
let importCount = 0;

const packageNames = existsSync(packagesDir)
  ? readdirSync(packagesDir)
      .filter((name) => existsSync(path.join(packagesDir, name, 'src')))
      .sort()
  : [];
const workspace = workspacePackages(packageNames);

for (const packageName of packageNames) {
  const src = path.join(packagesDir, packageName, 'src');
  const table = LAYER_TABLES[packageName];
  for (const file of tsFiles(src)) {
    fileCount++;
    const shown = path.relative(root, file).split(path.sep).join('/');
    const fromPath = path.relative(src, file).split(path.sep).join('/');
    const fromUnit = unitOf(fromPath, table);
    const fromLayer = table && layerOf.get(table)!.get(fromUnit);
    if (table && fromLayer === undefined) {
      violations.push(`${shown}:1 is in ${fromUnit}, which the layer table of scripts/lint-imports.ts does not place: add it to a layer`);
    }
    for (const { specifier, line } of importsOf(readFileSync(file, 'utf8'))) {
      importCount++;
      if (!specifier.startsWith('.')) {
        const owner = [...workspace.keys()].find((name) => specifier === name || specifier.startsWith(`${name}/`));
        const subpath = owner === undefined ? undefined : `.${specifier.slice(owner.length)}`;
        if (owner !== undefined && !workspace.get(owner)!.has(subpath!)) {
          violations.push(
            `${shown}:${line} imports ${specifier}, which ${owner} does not export (its exports: ${[...workspace.get(owner)!].join(', ')})`,
          );
        }
        continue;
      }
      const target = path
        .relative(src, path.resolve(path.dirname(file), specifier))
        .split(path.sep)
        .join('/');
      if (target.startsWith('../') || path.isAbsolute(target)) {
        violations.push(`${shown}:${line} imports ${specifier}, outside its package's src: import another package by its name`);
        continue;
      }
      if (!table || fromLayer === undefined) continue;
      const toUnit = unitOf(target, table);
      if (toUnit === fromUnit) continue;
      const toLayer = layerOf.get(table)!.get(toUnit);
      if (toLayer !== undefined && toLayer < fromLayer) continue;
      const why =
        toLayer === undefined ? '' : toLayer === fromLayer ? ' (siblings in one layer may not import each other)' : ' (a higher layer)';
      violations.push(`${shown}:${line} imports ${target} (${describeLayer(toUnit, table)}) from ${describeLayer(fromUnit, table)}${why}`);
    }
  }
}

if (violations.length > 0) {
  for (const violation of violations) console.log(violation);
  console.log(`lint-imports: ${violations.length} violation(s) in ${fileCount} files`);
  process.exitCode = 1;
} else {
  console.log(
    `lint-imports: ${fileCount} files of ${packageNames.length} packages, ${importCount} imports, every one pointing down the layers`,
  );
}
