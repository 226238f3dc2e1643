/**
 * What the receiver refuses, over real HTTP to a real SQLite trace store: each refusal has the
 * status the OTLP/HTTP specification gives it and a google.rpc.Status body in the request's format,
 * and stores nothing. Also: the empty success responses, read-only access sending spans, the
 * access rule, the traces option left out (404), and a client disconnecting mid-body (not logged).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { TRACE_LIMITS } from '../../src/config/defaults.ts';
import { jobScenario, jsonBody, protobufBody, recordSpans } from './support/real-spans.ts';
import { postOtlp, recordingLogger, serveDashboard, tempTraceStore, waitFor, type OtlpAnswer } from './support/receiving.ts';

const spans = await recordSpans(jobScenario);
const PROTOBUF = protobufBody(spans);
const JSON_BODY = jsonBody(spans);

const store = await tempTraceStore();
const log = recordingLogger();
const { url, answered } = await serveDashboard({ traces: { store }, logger: log.logger });

/** A google.rpc.Status in protobuf: field 1 (code, varint), field 2 (message, length-delimited). */
function decodeStatus(bytes: Buffer): { code: number; message: string } {
  let offset = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  assert.equal(bytes[offset++], 0x08, 'field 1, varint');
  const code = varint();
  assert.equal(bytes[offset++], 0x12, 'field 2, length-delimited');
  const length = varint();
  assert.equal(offset + length, bytes.length, 'nothing after the message');
  return { code, message: bytes.subarray(offset).toString('utf8') };
}

/** The answer is `status` with a Status body of `code` whose message matches, in protobuf or JSON. */
function refused(answer: OtlpAnswer, status: number, code: number, message: RegExp, format: 'protobuf' | 'json' = 'protobuf'): void {
  assert.equal(answer.status, status, answer.body.toString());
  const type = answer.headers.get('content-type');
  const body = format === 'json' ? (JSON.parse(answer.body.toString()) as { code: number; message: string }) : decodeStatus(answer.body);
  assert.equal(type, format === 'json' ? 'application/json' : 'application/x-protobuf');
  assert.equal(body.code, code);
  assert.match(body.message, message);
}

/** A gzip stream of `members` copies of one member holding `size` zeros: a bomb inflating to members × size. */
function gzipBomb(size: number, members: number): Buffer {
  const member = gzipSync(Buffer.alloc(size), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => member));
}

describe('the receiver refuses, and stores nothing', () => {
  it('malformed protobuf, a truncated protobuf body, malformed JSON: 400 INVALID_ARGUMENT with what is wrong', async () => {
    refused(
      await postOtlp(url, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])),
      400,
      3,
      /^Not a valid OTLP export, nothing was stored: /,
    );
    refused(await postOtlp(url, PROTOBUF.subarray(0, PROTOBUF.length - 7)), 400, 3, /^Not a valid OTLP export/);
    refused(
      await postOtlp(url, Buffer.from('{"resourceSpans": ['), { 'content-type': 'application/json' }),
      400,
      3,
      /^Not a valid OTLP export/,
      'json',
    );
    refused(
      await postOtlp(url, JSON_BODY.subarray(0, JSON_BODY.length - 3), { 'content-type': 'application/json; charset=utf-8' }),
      400,
      3,
      /^Not a valid OTLP export/,
      'json',
    );
    assert.equal(await store.countSpans(), 0);
  });

  it('a truncated or corrupt gzip or deflate stream: 400', async () => {
    const gzipped = gzipSync(PROTOBUF);
    refused(
      await postOtlp(url, gzipped.subarray(0, gzipped.length - 12), { 'content-encoding': 'gzip' }),
      400,
      3,
      /not valid gzip data, or it is truncated/,
    );
    refused(await postOtlp(url, PROTOBUF, { 'content-encoding': 'gzip' }), 400, 3, /not valid gzip data/);
    const deflated = deflateSync(JSON_BODY);
    refused(
      await postOtlp(url, deflated.subarray(0, deflated.length - 4), { 'content-encoding': 'deflate', 'content-type': 'application/json' }),
      400,
      3,
      /not valid deflate data, or it is truncated/,
      'json',
    );
    assert.equal(await store.countSpans(), 0);
  });

  it('a body larger than maxOtlpBodyBytes as sent: 413, Connection: close', async () => {
    const answer = await postOtlp(url, Buffer.alloc(TRACE_LIMITS.maxOtlpBodyBytes + 1));
    refused(answer, 413, 3, new RegExp(`larger than ${TRACE_LIMITS.maxOtlpBodyBytes} bytes\\.$`));
    assert.equal(answer.headers.get('connection'), 'close');
    assert.equal(await store.countSpans(), 0);
  });

  it('a gzip bomb, or a body larger than maxOtlpDecodedBytes once inflated: 413 at the cap', async () => {
    // 4 GiB of zeros in 4 MiB: inflated whole it could not even be held in one Buffer.
    const bomb = gzipBomb(64 * 1024 * 1024, 64);
    assert.ok(bomb.length < TRACE_LIMITS.maxOtlpBodyBytes);
    const answer = await postOtlp(url, bomb, { 'content-encoding': 'gzip' });
    refused(answer, 413, 3, new RegExp(`larger than ${TRACE_LIMITS.maxOtlpDecodedBytes} bytes once decompressed`));
    assert.equal(answer.headers.get('connection'), 'close');
    const justOver = deflateSync(Buffer.alloc(TRACE_LIMITS.maxOtlpDecodedBytes + 1));
    refused(await postOtlp(url, justOver, { 'content-encoding': 'deflate' }), 413, 3, /once decompressed/);
    assert.equal(await store.countSpans(), 0);
  });

  it('a Content-Type or Content-Encoding it does not know: 415', async () => {
    refused(
      await postOtlp(url, PROTOBUF, { 'content-type': 'text/plain' }),
      415,
      3,
      /^Expected an OTLP body, application\/x-protobuf or application\/json; received text\/plain\.$/,
      'json',
    );
    refused(await postOtlp(url, PROTOBUF, { 'content-type': 'application/grpc' }), 415, 3, /received application\/grpc/, 'json');
    refused(
      await postOtlp(url, PROTOBUF, { 'content-encoding': 'br' }),
      415,
      3,
      /^Content-Encoding br is not supported: send gzip, deflate or none\.$/,
    );
    refused(
      await postOtlp(url, JSON_BODY, { 'content-type': 'application/json', 'content-encoding': 'zstd' }),
      415,
      3,
      /Content-Encoding zstd/,
      'json',
    );
    assert.equal(await store.countSpans(), 0);
  });

  it('a web page posting from another site (Sec-Fetch-Site: cross-site, or a foreign Origin): 403', async () => {
    refused(await postOtlp(url, PROTOBUF, { 'sec-fetch-site': 'cross-site' }), 403, 7, /Sec-Fetch-Site: cross-site/);
    refused(
      await postOtlp(url, JSON_BODY, { 'content-type': 'application/json', origin: 'https://evil.example' }),
      403,
      7,
      /comes from https:\/\/evil\.example/,
      'json',
    );
    assert.equal(await store.countSpans(), 0);
  });

  it('GET: 405 with Allow: POST', async () => {
    const response = await fetch(url);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assert.deepEqual(await response.json(), { code: 12, message: 'GET is not an OTLP export: send spans with POST.' });
  });

  it('nothing of the refusals was logged as an error', () => {
    assert.deepEqual(log.errors(), []);
  });
});

describe('the receiver accepts', () => {
  it('200 with an empty ExportTraceServiceResponse: 0 bytes in protobuf, {} in JSON', async () => {
    const protobuf = await postOtlp(url, PROTOBUF);
    assert.equal(protobuf.status, 200);
    assert.equal(protobuf.headers.get('content-type'), 'application/x-protobuf');
    assert.equal(protobuf.body.length, 0);
    const json = await postOtlp(url, JSON_BODY, { 'content-type': 'application/json' });
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.equal(json.body.toString(), '{}');
    assert.equal(await store.countSpans(), spans.length, 'the same spans twice: stored once');
  });

  it('a request from the dashboard’s own origin (Sec-Fetch-Site: same-origin)', async () => {
    assert.equal((await postOtlp(url, PROTOBUF, { 'sec-fetch-site': 'same-origin' })).status, 200);
  });

  it('a client disconnecting mid-body is no error: nothing logged, nothing stored, the receiver goes on', async () => {
    const count = await store.countSpans();
    const before = answered.length;
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': PROTOBUF.length } });
    req.on('error', () => {}); // the socket this test destroys
    req.write(PROTOBUF.subarray(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    await waitFor(() => answered.length > before, 'the receiver to see the request end');
    assert.equal(answered.at(-1)!.status, undefined, 'no answer: there is no one to answer');
    assert.equal((await postOtlp(url, PROTOBUF)).status, 200, 'the next export is taken');
    assert.deepEqual(log.errors(), []);
    assert.equal(await store.countSpans(), count);
  });
});

describe('access to /v1/traces', () => {
  it('read-only access may send spans: they change no job', async () => {
    const readOnlyStore = await tempTraceStore();
    const readOnly = await serveDashboard({ readOnly: true, traces: { store: readOnlyStore } });
    assert.equal((await postOtlp(readOnly.url, PROTOBUF)).status, 200);
    const viewer = await serveDashboard({ authorize: () => 'read-only', traces: { store: readOnlyStore } });
    assert.equal((await postOtlp(viewer.url, PROTOBUF)).status, 200);
    assert.equal(await readOnlyStore.countSpans(), spans.length);
  });

  it('authorize answering false: 403 in OTLP terms, nothing stored', async () => {
    const deniedStore = await tempTraceStore();
    const denied = await serveDashboard({ authorize: () => false, traces: { store: deniedStore } });
    refused(await postOtlp(denied.url, PROTOBUF), 403, 7, /authorize refused the request/);
    assert.equal(await deniedStore.countSpans(), 0);
  });

  it('without the traces option: 404, a JSON error', async () => {
    const off = await serveDashboard({});
    refused(await postOtlp(off.url, PROTOBUF), 404, 5, /receives no traces: it was created without the traces option/, 'json');
  });

  it('after close(): 503 with Retry-After', async () => {
    const closingStore = await tempTraceStore();
    const closing = await serveDashboard({ traces: { store: closingStore } });
    await closing.dashboard.close();
    const answer = await postOtlp(closing.url, PROTOBUF);
    refused(answer, 503, 14, /shutting down/);
    assert.equal(answer.headers.get('retry-after'), String(TRACE_LIMITS.retryAfterSeconds));
  });
});
