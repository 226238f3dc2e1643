import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createClient, defineJob, silentLogger } from '../../src/index.ts';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { MetricAttributes as S, MetricNames } from '../../src/semconv.ts';
import { tempStore, testWorker, wrapStore } from '../support/helpers.ts';
import { storeGaugesScenario } from './gauge-scenario.ts';
import { key, testMeterProvider, values } from './support.ts';

const noop = defineJob('gauges.noop', (_: number) => undefined);

describe('store-wide gauges (SQLite)', () => {
  it('report jobs per queue and state, lag, workers alive and slots; an emptied queue drops to 0', { timeout: 60_000 }, async () => {
    await storeGaugesScenario(tempStore());
  });

  it('read the store about once a second per process, whatever the number of readers and workers', { timeout: 60_000 }, async () => {
    const realStore = tempStore();
    const reads = { queueStats: 0, listServers: 0 };
    const store = wrapStore(realStore, {
      queueStats: () => (reads.queueStats++, realStore.queueStats()),
      listServers: () => (reads.listServers++, realStore.listServers()),
    });
    const { provider, readers } = testMeterProvider(2);
    const metrics = { meterProvider: provider };
    await createClient({ store, logger: silentLogger }).enqueue(noop, 1, { queue: 'elsewhere' });
    const workers = [1, 2, 3].map(() => testWorker({ store, jobs: [noop], metrics }));
    for (const worker of workers) await worker.start();

    const collections = 10;
    for (let round = 0; round < collections; round++) {
      // Both readers at once (sharing one read in flight), then one again within the second (the cached read).
      const [first, second] = await Promise.all(readers.map((reader) => reader.pilotlight()));
      const again = await readers[0]!.pilotlight();
      for (const collected of [first!, second!, again]) {
        assert.equal(values(collected.get(MetricNames.jobs)).get(key({ [S.destinationName]: 'elsewhere', [S.state]: 'Enqueued' })), 1);
        assert.equal(values(collected.get(MetricNames.workersAlive)).get(key({})), 3);
      }
      // Pacing: the next round comes after the cached read has expired.
      await sleep(DEFAULTS.metrics.storeReadCacheMs);
    }
    // 30 collections of two readers, each seeing three workers' gauges: one read per round at most.
    assert.ok(reads.queueStats >= 1 && reads.queueStats <= collections, `${reads.queueStats} queueStats() reads`);
    assert.equal(reads.listServers, reads.queueStats, 'both reads go together');
  });
});
