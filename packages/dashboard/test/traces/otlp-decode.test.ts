import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTraces } from '../../src/traces/otlp/decode-traces.ts';
import { expectedRecords, jobScenario, jsonBody, protobufBody, recordSpans } from './support/real-spans.ts';

describe('decodeTraces()', () => {
  it('decodes real SDK spans from the official protobuf and JSON serializers', async () => {
    const spans = await recordSpans(jobScenario);
    const expected = expectedRecords(spans);
    assert.deepEqual(decodeTraces(protobufBody(spans), 'protobuf'), expected);
    assert.deepEqual(decodeTraces(jsonBody(spans), 'json'), expected);
  });
});
