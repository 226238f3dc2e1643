/**
 * Retention by the dashboard itself, on a real SQLite trace store: at start-up it deletes the spans
 * older than `traces.maxAgeMs`, then the oldest beyond `traces.maxSpans`, and keeps the rest.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createSqliteStore } from 'pilotlight/sqlite';
import { join } from 'node:path';
import { createDashboard } from '../../src/index.ts';
import { tempDir, waitFor } from '../../../pilotlight/test/support/helpers.ts';
import { makeSpan } from './support/span-builder.ts';
import { tempTraceStore } from './support/receiving.ts';

const DAY_MS = 24 * 3_600_000;

it('deletes at start-up the spans older than maxAgeMs and the oldest beyond maxSpans, keeps the newer', async () => {
  const store = await tempTraceStore();
  const nowUs = Date.now() * 1000;
  const old = Array.from({ length: 3 }, (_, index) => makeSpan({ startUs: nowUs - (8 * DAY_MS + index * 1000) * 1000 }));
  // Newest first: recent[0] started a minute ago, recent[5] six minutes ago.
  const recent = Array.from({ length: 6 }, (_, index) => makeSpan({ startUs: nowUs - (index + 1) * 60_000_000 }));
  await store.write([...old, ...recent]);
  assert.equal(await store.countSpans(), 9);

  const jobs = createSqliteStore({ path: join(tempDir(), 'jobs.db') });
  const dashboard = createDashboard({ store: jobs, traces: { store, maxAgeMs: 7 * DAY_MS, maxSpans: 4 } });
  try {
    await waitFor(async () => (await store.countSpans()) === 4, 'the start-up prune');
    for (const span of old) assert.deepEqual((await store.getTrace(span.traceId, 10)).spans, [], 'older than 7 days: deleted');
    for (const span of recent.slice(4))
      assert.deepEqual((await store.getTrace(span.traceId, 10)).spans, [], 'beyond the newest 4: deleted');
    for (const span of recent.slice(0, 4)) assert.deepEqual((await store.getTrace(span.traceId, 10)).spans, [span], 'kept');
  } finally {
    await dashboard.close();
    jobs.close();
  }
});
