import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidV7Generator } from '../../src/util/uuid-v7.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit timestamp of a UUID v7, in ms. */
function timestampOf(id: string): number {
  return parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

function counterOf(id: string): number {
  return parseInt(id.slice(15, 18), 16);
}

describe('UUID v7 ids', () => {
  it('have the RFC 9562 layout: version 7, variant 10, the time in ms in the first 48 bits', () => {
    const next = uuidV7Generator(() => 0x01932b4e7890);
    const id = next();
    assert.match(id, UUID_V7);
    assert.equal(id.slice(0, 13), '01932b4e-7890');
    assert.equal(timestampOf(id), 0x01932b4e7890);
    const now = Date.now();
    const real = uuidV7Generator()();
    assert.ok(Math.abs(timestampOf(real) - now) < 1_000, 'the default clock is Date.now()');
  });

  it('are unique and strictly increasing, as strings, across and within milliseconds', () => {
    const next = uuidV7Generator();
    const ids = Array.from({ length: 20_000 }, next);
    for (const id of ids) assert.match(id, UUID_V7);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
  });

  it('count within one millisecond; on counter overflow, move the timestamp one ms ahead', () => {
    const next = uuidV7Generator(() => 1_000);
    const ids = Array.from({ length: 5_000 }, next);
    assert.deepEqual([...ids].sort(), ids);
    assert.ok(counterOf(ids[0]!) <= 0x7ff, 'a new millisecond starts the counter below 2048');
    assert.equal(counterOf(ids[1]!), counterOf(ids[0]!) + 1);
    assert.equal(timestampOf(ids[0]!), 1_000);
    assert.ok(timestampOf(ids.at(-1)!) > 1_000, 'the overflow borrowed the next millisecond');
  });

  it('stay ordered when the clock goes back', () => {
    let now = 5_000;
    const next = uuidV7Generator(() => now);
    const first = next();
    now = 4_000;
    const second = next();
    now = 5_001;
    const third = next();
    assert.ok(first < second && second < third);
    assert.equal(timestampOf(second), 5_000);
    assert.equal(timestampOf(third), 5_001);
  });
});
