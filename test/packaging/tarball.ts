/**
 * Reads a `.tgz` as `npm pack` writes it (gzip, ustar with pax extended headers for long names):
 * the regular files' paths and contents. Dependency-free, for the packaging tests.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export function readTarball(path: string): Map<string, Buffer> {
  const data = gunzipSync(readFileSync(path));
  const files = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break; // end of archive
    const name = field(header, 0, 100);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(header, 345, 155) : '';
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    if (type === 'g') continue;
    const fullName = paxPath ?? (prefix ? `${prefix}/${name}` : name);
    paxPath = undefined;
    if (type === '0' || type === '\0') files.set(fullName, Buffer.from(body));
    else files.set(`${fullName} (type ${type})`, Buffer.alloc(0)); // not a regular file: listed, so it fails the content check
  }
  return files;
}

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/**
 * Links and images in Markdown whose target is neither an absolute URL nor an anchor (`](./x)`,
 * `](../README.md)`, `](packages/...)`, `[ref]: docs/x.md`, `<a href="x">`): on the registry's page
 * they lead nowhere. Fenced code blocks and inline code are skipped. Returns `line: target` strings.
 */
export function relativeLinks(markdown: string): string[] {
  const found: string[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((line, index) => {
    const fenceMatch = /^\s*(```|~~~)/.exec(line);
    if (fenceMatch) {
      if (fence === undefined) fence = fenceMatch[1];
      else if (fenceMatch[1] === fence) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const text = line.replace(/`[^`]*`/g, '``');
    const targets = [
      ...[...text.matchAll(/\]\(\s*<?([^)\s>]*)/g)].map((match) => match[1]),
      ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)].map((match) => match[1]),
      ...[...text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']*)["']/gi)].map((match) => match[1]),
    ];
    for (const target of targets) {
      if (target === undefined || /^(?:[a-z][a-z0-9+.-]*:|#)/i.test(target)) continue; // https:, mailto:, #anchor
      found.push(`line ${index + 1}: ${target === '' ? '(empty)' : target}`);
    }
  });
  return found;
}
