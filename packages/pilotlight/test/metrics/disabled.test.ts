import assert from 'node:assert/strict';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { after, describe, it } from 'node:test';
import { createClient, defineJob, silentLogger } from '../../src/index.ts';
import { tempStore, testWorker, waitForState, wrapStore } from '../support/helpers.ts';
import { testMeterProvider } from './support.ts';

const ok = defineJob('disabled.ok', (_: number) => undefined);
const fails = defineJob(
  'disabled.fails',
  (_: number) => {
    throw new Error('no');
  },
  { retry: { attempts: 1 } },
);

describe('metrics disabled', () => {
  it('records nothing and reads nothing, with a provider given and one registered globally', async () => {
    const { provider, readers } = testMeterProvider();
    otelMetrics.setGlobalMeterProvider(provider);
    after(() => otelMetrics.disable());
    const realStore = tempStore();
    let storeReads = 0;
    const store = wrapStore(realStore, {
      queueStats: () => (storeReads++, realStore.queueStats()),
      listServers: () => (storeReads++, realStore.listServers()),
    });
    const disabled = { enabled: false, meterProvider: provider };
    const client = createClient({ store, logger: silentLogger, metrics: disabled });
    await client.recurring.addOrUpdate('disabled.nightly', '0 0 1 1 *', ok, 0);
    await realStore.upsertRecurring({ ...(await client.recurring.get('disabled.nightly'))!, nextRunAt: new Date(Date.now() - 1_000) });
    const ids = [await client.enqueue(ok, 1), await client.schedule(ok, 2, { delay: 60_000 }), await client.enqueue(fails, 3)];
    const worker = testWorker({ store, jobs: [ok, fails], metrics: { enabled: false } });
    await worker.start();
    await waitForState(client, ids[0]!, 'Succeeded');
    await waitForState(client, ids[2]!, 'Failed');
    await waitForState(client, (await client.recurring.get('disabled.nightly'))!.lastJobId!, 'Succeeded');

    for (const reader of readers) assert.equal((await reader.pilotlight()).size, 0, 'no pilotlight instrument reported');
    assert.equal(storeReads, 0, 'the store gauges never read the store');
    await worker.stop();
  });
});
