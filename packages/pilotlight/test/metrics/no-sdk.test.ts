import assert from 'node:assert/strict';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { after, describe, it } from 'node:test';
import { createClient, defineJob, silentLogger } from '../../src/index.ts';
import { MetricAttributes as S, MetricNames } from '../../src/semconv.ts';
import { tempStore, testWorker, waitForState } from '../support/helpers.ts';
import { key, testMeterProvider, values } from './support.ts';

const ok = defineJob('no-sdk.ok', (_: number) => undefined);
const fails = defineJob(
  'no-sdk.fails',
  (_: number) => {
    throw new Error('no');
  },
  { retry: { attempts: 1 } },
);

describe('metrics without a registered MeterProvider', () => {
  it('every job runs on the no-op API; a provider registered later is used by the workers and clients made after it', async () => {
    const store = tempStore();
    const client = createClient({ store, logger: silentLogger });
    await client.recurring.addOrUpdate('no-sdk.nightly', '0 0 1 1 *', ok, 0);
    await store.upsertRecurring({ ...(await client.recurring.get('no-sdk.nightly'))!, nextRunAt: new Date(Date.now() - 1_000) });
    const ids = [await client.enqueue(ok, 1), await client.enqueue(fails, 2)];
    const first = testWorker({ store, jobs: [ok, fails] });
    await first.start();
    await waitForState(client, ids[0]!, 'Succeeded');
    await waitForState(client, ids[1]!, 'Failed');
    await waitForState(client, (await client.recurring.get('no-sdk.nightly'))!.lastJobId!, 'Succeeded');
    await first.stop();

    // The API's global provider is no proxy: what was made before stays a no-op, what is made after records.
    const { provider, readers } = testMeterProvider();
    otelMetrics.setGlobalMeterProvider(provider);
    after(() => otelMetrics.disable());
    const later = createClient({ store, logger: silentLogger });
    const id = await later.enqueue(ok, 3);
    await client.enqueue(ok, 4); // the first client made its instruments on the no-op provider
    const second = testWorker({ store, jobs: [ok] });
    await second.start();
    await waitForState(later, id, 'Succeeded');
    const collected = await readers[0]!.pilotlight();
    const sent = { [S.system]: 'pilotlight', [S.operationName]: 'enqueue', [S.destinationName]: 'default', [S.jobType]: 'no-sdk.ok' };
    assert.deepEqual(values(collected.get(MetricNames.sentMessages)), new Map([[key(sent), 1]]));
    assert.equal(values(collected.get(MetricNames.workerCapacity)).get(key({})), 10);
    await second.stop();
  });
});
