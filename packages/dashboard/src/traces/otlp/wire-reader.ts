import { storableText } from './normalize.ts';
import { OtlpDecodeError } from './otlp-decode-error.ts';

/**
 * A reader of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/), just
 * what OTLP needs, over one request body. Every read is bounds-checked: a truncated or malformed body
 * throws `OtlpDecodeError` saying what and at which byte.
 *
 * Allocation-light by design: an embedded message is not a new reader but an end offset
 * (`enter()`), and a 64-bit value is left in `hi`/`lo` rather than returned as an object or BigInt.
 */

/** The wire types of a field's tag (3 and 4, the deprecated groups, are skipped like any unknown field). */
export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

/** Groups nested deeper than this within an unknown field are refused (a malicious body could nest them without end). */
const MAX_GROUP_DEPTH = 64;

export class WireReader {
  /** The offset of the next byte to read. */
  pos = 0;
  /** The high 32 bits (unsigned) of the last `varint64()` or `fixed64()`. */
  hi = 0;
  /** The low 32 bits (unsigned) of the last `varint64()` or `fixed64()`. */
  lo = 0;
  /** The field number of the last `tag()`. */
  field = 0;
  /** The wire type of the last `tag()`. */
  wireType = 0;
  /** Where the last tag starts: the byte an error about its field points to. */
  #tagAt = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #buffer: Buffer;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Node's UTF-8 decoding of a slice, without copying the body.
    this.#buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The body's length: the end of the top-level message. */
  get length(): number {
    return this.#bytes.length;
  }

  /**
   * Reads the next tag into `field` and `wireType`. Call while `pos < end` of the message being
   * read.
   */
  tag(): void {
    const at = this.pos;
    this.#tagAt = at;
    this.varint64();
    const field = this.hi * 0x20000000 + (this.lo >>> 3);
    if (field === 0 || field > 0x1fffffff) throw this.error(`invalid field number ${field}`, at);
    this.field = field;
    this.wireType = this.lo & 7;
    if (this.wireType > 5) throw this.error(`invalid wire type ${this.wireType} of field ${field}`, at);
  }

  /** Throws unless the last tag's wire type is `expected` (a known field sent with another type is malformed). */
  expect(expected: number, what: string): void {
    if (this.wireType !== expected) {
      throw this.error(`${what} (field ${this.field}) has wire type ${this.wireType}, expected ${expected}`, this.#tagAt);
    }
  }

  /** A varint into `hi` and `lo`: up to 10 bytes, the bits beyond 64 dropped as protobuf parsers do. */
  varint64(): void {
    const bytes = this.#bytes;
    const at = this.pos;
    let pos = at;
    let lo = 0;
    let hi = 0;
    let byte: number;
    // Bytes 1-4 carry bits 0-27, byte 5 bits 28-34 (split across lo and hi), bytes 6-10 bits 35-63.
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= bytes.length) throw this.error('truncated varint', at);
      byte = bytes[pos++]!;
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.#setVarint(pos, lo, 0);
    }
    if (pos >= bytes.length) throw this.error('truncated varint', at);
    byte = bytes[pos++]!;
    lo |= (byte & 0x0f) << 28;
    hi = (byte & 0x7f) >>> 4;
    if (byte < 0x80) return this.#setVarint(pos, lo, hi);
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= bytes.length) throw this.error('truncated varint', at);
      byte = bytes[pos++]!;
      hi |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.#setVarint(pos, lo, hi);
    }
    throw this.error('varint longer than 10 bytes', at);
  }

  #setVarint(pos: number, lo: number, hi: number): void {
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A varint field of 32 bits or less (uint32, enum, bool): its low 32 bits, signed (enums may be negative). */
  int32(): number {
    this.varint64();
    return this.lo | 0;
  }

  /** A fixed32 field, unsigned. */
  fixed32(): number {
    const at = this.#advance(4, 'fixed32');
    return this.#view.getUint32(at, true);
  }

  /** A fixed64 field into `hi` and `lo`. */
  fixed64(): void {
    const at = this.#advance(8, 'fixed64');
    this.lo = this.#view.getUint32(at, true);
    this.hi = this.#view.getUint32(at + 4, true);
  }

  /** A double field (wire type fixed64). */
  double(): number {
    const at = this.#advance(8, 'double');
    return this.#view.getFloat64(at, true);
  }

  /** A length-delimited field's bytes: a view into the body, not a copy. */
  bytes(): Uint8Array {
    const end = this.enter();
    const start = this.pos;
    this.pos = end;
    return this.#bytes.subarray(start, end);
  }

  /**
   * A string field (UTF-8; invalid sequences become U+FFFD, as most protobuf runtimes for JavaScript
   * do, and so does NUL: `storableText`).
   */
  string(): string {
    const end = this.enter();
    const start = this.pos;
    this.pos = end;
    return start === end ? '' : storableText(this.#buffer.toString('utf8', start, end));
  }

  /** A length-delimited field's bytes as lowercase hex (the ids). */
  hex(): string {
    const end = this.enter();
    const start = this.pos;
    this.pos = end;
    return start === end ? '' : this.#buffer.toString('hex', start, end);
  }

  /**
   * Reads the length of an embedded message (or any length-delimited field) and returns the offset
   * where it ends; read its fields while `pos < end`, then call `leave(end)`.
   */
  enter(): number {
    const at = this.pos;
    this.varint64();
    const length = this.hi * 4294967296 + this.lo;
    if (length > this.#bytes.length - this.pos) {
      throw this.error(`length ${length} runs past the end of the body (${this.#bytes.length} bytes)`, at);
    }
    return this.pos + length;
  }

  /** Checks that a message's last field ended exactly at the message's end, not past it. */
  leave(end: number): void {
    if (this.pos !== end) throw this.error(`a field runs past the end of its message (which ends at byte ${end})`, this.pos);
  }

  /** Skips the value of the last tag's field (an unknown field, or one the dashboard does not keep). */
  skip(): void {
    const wireType = this.wireType;
    if (wireType === WireType.varint) this.varint64();
    else if (wireType === WireType.fixed64) this.#advance(8, 'fixed64');
    else if (wireType === WireType.fixed32) this.#advance(4, 'fixed32');
    else if (wireType === WireType.lengthDelimited) this.pos = this.enter();
    else if (wireType === WireType.startGroup) this.#skipGroup();
    else throw this.error(`unexpected end-group tag of field ${this.field}`, this.#tagAt);
  }

  /** Skips a group up to its end-group tag of the same field number, nested groups included. */
  #skipGroup(): void {
    const open = [this.field];
    while (open.length > 0) {
      if (this.pos >= this.#bytes.length) throw this.error(`group of field ${open.at(-1)} has no end`, this.pos);
      this.tag();
      if (this.wireType === WireType.endGroup) {
        if (this.field !== open.pop()) throw this.error(`end-group tag of field ${this.field} closes another group`, this.#tagAt);
      } else if (this.wireType === WireType.startGroup) {
        if (open.length >= MAX_GROUP_DEPTH) throw this.error(`groups nested deeper than ${MAX_GROUP_DEPTH}`, this.#tagAt);
        open.push(this.field);
      } else {
        this.skip();
      }
    }
  }

  /** Moves past `size` bytes, returning where they start. */
  #advance(size: number, what: string): number {
    const at = this.pos;
    if (at + size > this.#bytes.length) throw this.error(`truncated ${what}`, at);
    this.pos = at + size;
    return at;
  }

  /** An `OtlpDecodeError` for a problem at byte `at` of the body. */
  error(problem: string, at: number): OtlpDecodeError {
    return new OtlpDecodeError(`Invalid OTLP protobuf body: ${problem} at byte ${at}`);
  }
}
