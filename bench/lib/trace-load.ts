import { Agent, request } from 'node:http';
import { sleep } from './clock.ts';
import type { OtlpBatch } from './trace-batches.ts';

/**
 * The load generator of the traces bench: a few concurrent "exporters" POSTing prepared OTLP bodies
 * over keep-alive connections, as the OpenTelemetry protobuf exporter does: a 429 (or 503) is
 * retried after its `Retry-After`, any other status but 200 is a failure of the bench.
 */

export interface SendResult {
  /** Bodies acknowledged (200). */
  readonly requests: number;
  readonly spans: number;
  /** Answers 429 (each retried after its Retry-After). */
  readonly refused: number;
  /** Send-to-answer time of each acknowledged request (its retries excluded), ms. */
  readonly latencies: readonly number[];
  /** From the first send to the last acknowledgement, ms. */
  readonly ms: number;
}

export interface SendOptions {
  /** Concurrent exporters, a connection each. */
  readonly exporters: number;
  /** Spans per second to keep to (bodies sent on a fixed schedule); undefined: as fast as acknowledged. */
  readonly rate?: number;
  /** Checked before each new body: true stops sending (the bodies under way are finished). */
  readonly stop?: () => boolean;
}

/** Sends `batches` to `url` (in order, `exporters` at a time); resolves once every body sent is acknowledged. */
export async function sendBatches(url: string, batches: readonly OtlpBatch[], options: SendOptions): Promise<SendResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.exporters });
  const latencies: number[] = [];
  let next = 0;
  let refused = 0;
  let spans = 0;
  const started = performance.now();
  const interval = options.rate === undefined ? 0 : 1000 / options.rate;
  async function exporter(): Promise<void> {
    while (next < batches.length && !options.stop?.()) {
      const index = next++;
      const batch = batches[index]!;
      // On a schedule: body i leaves at `i` bodies' worth of spans at `rate` after the start.
      const due = started + index * batch.spans * interval;
      if (due > performance.now()) await sleep(due - performance.now());
      for (;;) {
        const sent = performance.now();
        const answer = await post(agent, url, batch.body);
        if (answer.status === 200) {
          latencies.push(performance.now() - sent);
          spans += batch.spans;
          break;
        }
        if (answer.status !== 429 && answer.status !== 503) throw new Error(`POST ${url} answered ${answer.status}: ${answer.body}`);
        refused += answer.status === 429 ? 1 : 0;
        await sleep(answer.retryAfterSeconds * 1000);
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: options.exporters }, exporter));
  } finally {
    agent.destroy();
  }
  return { requests: latencies.length, spans, refused, latencies, ms: performance.now() - started };
}

interface Answer {
  readonly status: number;
  readonly retryAfterSeconds: number;
  readonly body: string;
}

function post(agent: Agent, url: string, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const retryAfter = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 200),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
