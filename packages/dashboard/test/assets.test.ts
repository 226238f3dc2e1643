import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

const assets = new URL('../assets/', import.meta.url);
const css = readFileSync(new URL('dashboard.css', assets), 'utf8');
const js = readFileSync(new URL('dashboard.js', assets), 'utf8');

describe('assets', () => {
  it('stay small: at most 4 KiB of CSS and 3 KiB of JavaScript, gzipped (the README states their sizes)', () => {
    assert.ok(gzipSync(css, { level: 9 }).length <= 4 * 1024, `CSS: ${gzipSync(css, { level: 9 }).length} bytes gzipped`);
    assert.ok(gzipSync(js, { level: 9 }).length <= 3 * 1024, `JS: ${gzipSync(js, { level: 9 }).length} bytes gzipped`);
  });

  it('the README states their sizes, raw and gzipped, as they are', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    for (const [name, text] of Object.entries({ 'dashboard.css': css, 'dashboard.js': js })) {
      const row = `| \`assets/${name}\` | ${kib(Buffer.byteLength(text))} | ${kib(gzipSync(text, { level: 9 }).length)} |`;
      assert.ok(readme.includes(row), `the README's asset table should have: ${row}`);
    }
  });

  it('reach nothing outside the dashboard: no URL, import or font from elsewhere', () => {
    for (const [name, text] of Object.entries({ 'dashboard.css': css, 'dashboard.js': js })) {
      assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org\/2000\/svg)|@import|url\(/, name);
    }
  });

  it('the script parses, and changes the page only with textContent and createElement', () => {
    const check = spawnSync(process.execPath, ['--check', new URL('dashboard.js', assets).pathname], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
  });
});
