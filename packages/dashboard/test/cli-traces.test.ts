/**
 * `pilotlight dashboard`'s traces, as a real process: on by default beside the SQLite store (the
 * file it names printed with the OTLP endpoint to set), `--traces FILE`, `--no-traces` (then
 * `/v1/traces` is 404), `--postgres` keeping the spans in the store's own schema, bad flag values
 * refused with exit 2, and nothing acknowledged lost when the process is killed (SIGKILL) mid-stream.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPostgresStore } from '@pilotlight/postgres';
import pg from 'pg';
import { createSqliteStore } from 'pilotlight/sqlite';
import { ownSchema, TEST_DATABASE_URL } from '../../postgres/test/support/schemas.ts';
import { createPostgresTraceStore, createSqliteTraceStore } from '../src/index.ts';
import { cli, shown, startDashboard } from './cli-support.ts';
import { tempDir, waitFor } from './http-support.ts';
import { jobScenario, protobufBody, recordSpans } from './traces/support/real-spans.ts';

const dir = tempDir();
const jobs = join(dir, 'jobs.db');
createSqliteStore({ path: jobs }).close();

/** The spans of one job scenario, and the body an exporter sends for them. */
async function export_(): Promise<{ traceId: string; count: number; body: Uint8Array }> {
  const spans = await recordSpans(jobScenario);
  return { traceId: spans[0]!.spanContext().traceId, count: spans.length, body: protobufBody(spans) };
}

function post(endpoint: string, body: Uint8Array): Promise<Response> {
  return fetch(`${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
}

/**
 * The OTLP endpoint the command printed (after its URL, so perhaps a moment later), checked against
 * the line it prints for OTEL_EXPORTER_OTLP_ENDPOINT.
 */
async function endpointOf(child: { output: { stdout: string } }): Promise<string> {
  const line = /^OTLP endpoint: (http:\/\/\S+) \(OTEL_EXPORTER_OTLP_ENDPOINT=(\S+)\)$/m;
  const match = await waitFor(() => line.exec(child.output.stdout), 'the OTLP endpoint line');
  assert.equal(match[2], match[1]);
  return match[1]!;
}

/** Waits for the command's `Traces: kept in …` line (printed after its URL, perhaps a moment later) and checks it. */
async function tracesLine(child: { output: { stdout: string } }, expected: RegExp): Promise<void> {
  await waitFor(() => (/^Traces: .*\n/m.test(child.output.stdout) ? true : undefined), 'the Traces line');
  assert.match(child.output.stdout, expected);
}

async function stop(child: Awaited<ReturnType<typeof startDashboard>>['child']) {
  child.kill('SIGTERM');
  const exited = await child.exited;
  assert.equal(exited.code, 0, shown(exited));
  return exited;
}

describe('pilotlight dashboard: traces', () => {
  it('on by default, beside --sqlite FILE (FILE.db → FILE.traces.db): the endpoint printed, the spans kept there', async () => {
    const { child, url } = await startDashboard(['--sqlite', jobs, '--port', '0']);
    const endpoint = await endpointOf(child);
    assert.equal(`${endpoint}/`, url);
    const traces = join(dir, 'jobs.traces.db');
    await tracesLine(child, new RegExp(`^Traces: kept in ${traces.replace(/[.]/g, '\\.')}$`, 'm'));
    const sent = await export_();
    assert.equal((await post(endpoint, sent.body)).status, 200);
    await stop(child);
    const store = createSqliteTraceStore({ path: traces });
    try {
      assert.equal((await store.getTrace(sent.traceId, 100)).spans.length, sent.count);
    } finally {
      await store.close();
    }
  });

  it('--traces FILE chooses the file; a store without .db gets FILE.traces.db; --base-path is in the endpoint', async () => {
    const bare = join(dir, 'pilotlight');
    createSqliteStore({ path: bare }).close();
    const chosen = join(dir, 'chosen-spans.db');
    const first = await startDashboard(['--sqlite', bare, '--port', '0', '--traces', chosen, '--base-path', '/jobs']);
    assert.match(await endpointOf(first.child), /^http:\/\/127\.0\.0\.1:\d+\/jobs$/);
    await stop(first.child);
    assert.ok(existsSync(chosen));
    assert.ok(!existsSync(`${bare}.traces.db`), 'not the default file when --traces is given');
    const second = await startDashboard(['--sqlite', bare, '--port', '0']);
    await stop(second.child);
    assert.ok(existsSync(`${bare}.traces.db`));
  });

  it('--no-traces: no endpoint printed, /v1/traces is 404, no trace file', async () => {
    const alone = join(tempDir(), 'alone.db');
    createSqliteStore({ path: alone }).close();
    const { child, url } = await startDashboard(['--sqlite', alone, '--port', '0', '--no-traces']);
    const response = await post(url.replace(/\/$/, ''), (await export_()).body);
    assert.equal(response.status, 404);
    await response.body?.cancel();
    assert.doesNotMatch((await stop(child)).stdout, /OTLP endpoint|Traces:/);
    assert.ok(!existsSync(alone.replace(/\.db$/, '.traces.db')));
  });

  it('--postgres: the spans in the store’s own schema', async () => {
    const schema = ownSchema();
    const jobStore = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 1 });
    await jobStore.close();
    const { child } = await startDashboard(['--postgres', TEST_DATABASE_URL, '--schema', schema, '--port', '0']);
    await tracesLine(child, new RegExp(`^Traces: kept in the PostgreSQL schema ${schema}$`, 'm'));
    const sent = await export_();
    assert.equal((await post(await endpointOf(child), sent.body)).status, 200);
    await stop(child);
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    try {
      const store = await createPostgresTraceStore({ pool, schema });
      assert.equal((await store.getTrace(sent.traceId, 100)).spans.length, sent.count);
      await store.close();
    } finally {
      await pool.end();
    }
  });

  it('bad values: exit 2 with a message naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--trace-max-age', '7'],
        /^pilotlight: --trace-max-age must be a duration, a whole number and a unit \(s, m, h or d\) such as 30m, 12h or 7d; received '7'$/m,
      ],
      [['--trace-max-age', '0d'], /--trace-max-age must be a duration.*received '0d'/],
      [['--trace-max-spans', '0'], /^pilotlight: --trace-max-spans must be an integer from 1 to \d+; received '0'$/m],
      [['--trace-max-spans', 'many'], /--trace-max-spans must be an integer/],
      [['--trace-url', 'http://jaeger:16686/trace/'], /^pilotlight: --trace-url: .*externalUrl must be a URL containing \{traceId\}/m],
      [['--trace-url', 'ftp://jaeger/{traceId}'], /--trace-url: .*must be an http:\/\/ or https:\/\/ URL/],
      [['--no-traces', '--traces', 'x.db'], /^pilotlight: --traces sets how traces are kept, and --no-traces turns them off: give one$/m],
      [['--traces', join(dir, 'no-such-dir', 'spans.db')], /^pilotlight: --traces .*spans\.db: SQLite cannot open it as a trace store/m],
    ];
    for (const [args, message] of cases) {
      const result = await cli(['dashboard', '--sqlite', jobs, '--port', '0', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}\n${shown(result)}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack');
    }
  });

  it('killed with SIGKILL mid-stream: every span it acknowledged is in the trace file', async () => {
    const crashDir = tempDir();
    const crashJobs = join(crashDir, 'jobs.db');
    createSqliteStore({ path: crashJobs }).close();
    const { child } = await startDashboard(['--sqlite', crashJobs, '--port', '0']);
    const endpoint = await endpointOf(child);
    const exports = await Promise.all(Array.from({ length: 300 }, () => export_()));
    const acknowledged: typeof exports = [];
    let next = 0;
    // Eight exporters at once, each sending its next export as soon as the last one was answered;
    // the process is killed once 100 were acknowledged, while the others are under way.
    const sender = async () => {
      while (next < exports.length) {
        const sent = exports[next++]!;
        try {
          const response = await post(endpoint, sent.body);
          await response.body?.cancel();
          if (response.status === 200) acknowledged.push(sent);
          if (acknowledged.length === 100) child.kill('SIGKILL');
        } catch {
          // Refused or cut off by the kill: not acknowledged, so the exporter would retry it.
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    const exited = await child.exited;
    assert.equal(exited.signal, 'SIGKILL', shown(exited));
    assert.ok(acknowledged.length >= 100 && acknowledged.length < exports.length, `${acknowledged.length} acknowledged`);
    const store = createSqliteTraceStore({ path: join(crashDir, 'jobs.traces.db') });
    try {
      for (const sent of acknowledged) {
        assert.equal((await store.getTrace(sent.traceId, 100)).spans.length, sent.count, `trace ${sent.traceId}`);
      }
    } finally {
      await store.close();
    }
  });
});
