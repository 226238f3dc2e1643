import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/** Random bytes used per id: 2 for the counter's random start, 8 for the variant's byte and the 7 after it. */
const BYTES_PER_ID = 10;
/** Random bytes are drawn in blocks: one system call per 100 ids. */
const POOL_SIZE = 100 * BYTES_PER_ID;
/** Largest counter value a new millisecond starts from (11 random bits): at least 2,048 more ids fit in it. */
const COUNTER_START_MASK = 0x7ff;
const COUNTER_MAX = 0xfff;

/**
 * A generator of RFC 9562 UUIDs version 7, in the usual text form
 * (`01932b4e-7890-7abc-8ef0-123456789abc`): a 48-bit Unix timestamp in ms, the version (7), a 12-bit
 * counter, the variant (`10`) and 62 random bits. The counter (RFC 9562 §6.2, method 1) makes the ids
 * of one generator strictly increasing, as strings too, even within one millisecond: a new
 * millisecond starts it at a random value under 2,048; each id of the same millisecond adds one; on
 * overflow the timestamp moves one ms ahead. A clock that goes back is ignored until it catches up.
 *
 * `clock` (ms since the epoch) is for tests.
 */
export function uuidV7Generator(clock: () => number = Date.now): () => string {
  const pool = new Uint8Array(POOL_SIZE);
  let offset = POOL_SIZE;
  let lastMs = -1;
  let counter = 0;
  return () => {
    if (offset === POOL_SIZE) {
      randomFillSync(pool);
      offset = 0;
    }
    const now = clock();
    if (now > lastMs) {
      lastMs = now;
      counter = ((pool[offset]! << 8) | pool[offset + 1]!) & COUNTER_START_MASK;
    } else if (++counter > COUNTER_MAX) {
      lastMs++;
      counter = ((pool[offset]! << 8) | pool[offset + 1]!) & COUNTER_START_MASK;
    }
    const high = Math.floor(lastMs / 0x1000000); // the timestamp's top 24 bits
    const low = lastMs % 0x1000000;
    const r = offset + 2;
    offset += BYTES_PER_ID;
    return (
      HEX[(high >>> 16) & 0xff]! +
      HEX[(high >>> 8) & 0xff]! +
      HEX[high & 0xff]! +
      HEX[low >>> 16]! +
      '-' +
      HEX[(low >>> 8) & 0xff]! +
      HEX[low & 0xff]! +
      '-' +
      HEX[0x70 | (counter >>> 8)]! +
      HEX[counter & 0xff]! +
      '-' +
      HEX[0x80 | (pool[r]! & 0x3f)]! +
      HEX[pool[r + 1]!]! +
      '-' +
      HEX[pool[r + 2]!]! +
      HEX[pool[r + 3]!]! +
      HEX[pool[r + 4]!]! +
      HEX[pool[r + 5]!]! +
      HEX[pool[r + 6]!]! +
      HEX[pool[r + 7]!]!
    );
  };
}
