import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

/** The files of the package's `assets/` folder the pages load, and their types. */
const FILES: Readonly<Record<string, string>> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzipped: Buffer;
  /** A hash of the content: the `v` of the URL the pages use, and the ETag. */
  readonly version: string;
}

let loaded: ReadonlyMap<string, Asset> | undefined;

/** The assets, read (and compressed) once per process: `assets/` sits beside `src/` and `dist/` alike. */
function assets(): ReadonlyMap<string, Asset> {
  loaded ??= new Map(
    Object.entries(FILES).map(([name, type]) => {
      const body = readFileSync(new URL(`../../assets/${name}`, import.meta.url));
      const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
      return [name, { type, body, gzipped: gzipSync(body, { level: 9 }), version }];
    }),
  );
  return loaded;
}

/** Each asset's URL under `/assets/`, versioned by its content: `dashboard.css?v=1a2b3c4d5e6f`. */
export function assetPaths(): Record<string, string> {
  return Object.fromEntries([...assets()].map(([name, asset]) => [name, `${name}?v=${asset.version}`]));
}

/**
 * Answer `GET /assets/<name>`: cached for a year (immutable) when the URL carries the current
 * version, revalidated otherwise; gzipped for clients that accept it. `false` for an unknown name.
 */
export function serveAsset(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): boolean {
  const asset = assets().get(name);
  if (!asset) return false;
  const etag = `"${asset.version}"`;
  res.setHeader('Cache-Control', query.get('v') === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache');
  res.setHeader('ETag', etag);
  res.setHeader('Vary', 'Accept-Encoding');
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304).end();
    return true;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? asset.gzipped : asset.body;
  res.writeHead(200, {
    'Content-Type': asset.type,
    'Content-Length': body.length,
    ...(gzip && { 'Content-Encoding': 'gzip' }),
  });
  res.end(body);
  return true;
}
