import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { ServerRecord } from '../../types.ts';
import { at, claim, create, moveTo, mustGet, newJob, sorted, storeIt, type StoreFactory } from './fixtures.ts';

function server(name: string, overrides: Partial<ServerRecord> = {}): ServerRecord {
  return { name, queues: ['default', 'mail'], concurrency: 8, startedAt: at(0), heartbeatAt: at(0), ...overrides };
}

/** heartbeat, removeServer, listServers, removeStaleServers. */
export function serversContract(createStore: StoreFactory): void {
  describe('heartbeat', () => {
    storeIt(createStore, 'records a new worker, then updates its heartbeat', async (store) => {
      assert.deepEqual(await store.listServers(), []);
      assert.deepEqual(await store.heartbeat(server('w1', { queues: ['critical', 'default'], concurrency: 3 }), at(30)), []);
      assert.deepEqual(await store.listServers(), [server('w1', { queues: ['critical', 'default'], concurrency: 3 })]);

      await store.heartbeat(server('w1', { queues: ['critical', 'default'], concurrency: 3, heartbeatAt: at(5) }), at(35));
      assert.deepEqual(await store.listServers(), [server('w1', { queues: ['critical', 'default'], concurrency: 3, heartbeatAt: at(5) })]);
    });

    storeIt(createStore, "extends the leases of this worker's Processing jobs only, and returns their ids", async (store) => {
      const [mine1, mine2, theirs, finished] = await create(store, newJob(), newJob(), newJob({ queue: 'other' }), newJob());
      await claim(store, 3, { serverName: 'w1', leaseUntil: at(40) });
      await claim(store, 1, { queue: 'other', serverName: 'w2', leaseUntil: at(40) });
      assert.equal((await mustGet(store, finished!)).serverName, 'w1');
      await moveTo(store, finished!, 'Succeeded');

      const held = await store.heartbeat(server('w1', { heartbeatAt: at(20) }), at(80));
      assert.deepEqual(sorted(held), sorted([mine1!, mine2!]));
      for (const id of [mine1!, mine2!]) {
        const job = await mustGet(store, id);
        assert.deepEqual(job.leaseUntil, at(80));
        assert.equal(job.state, 'Processing');
      }
      assert.deepEqual((await mustGet(store, theirs!)).leaseUntil, at(40));
      assert.equal((await mustGet(store, finished!)).leaseUntil, undefined);
      assert.deepEqual(
        (await store.listExpiredLeases(at(50), 10)).map((job) => job.id),
        [theirs],
      );
    });

    storeIt(createStore, 'stops returning a job once it moved on, so the worker can abort it', async (store) => {
      const [kept, lost] = await create(store, newJob(), newJob());
      await claim(store, 2, { serverName: 'w1' });
      assert.deepEqual(sorted(await store.heartbeat(server('w1'), at(50))), sorted([kept!, lost!]));
      await moveTo(store, lost!, 'Deleted');
      assert.deepEqual(await store.heartbeat(server('w1'), at(60)), [kept]);
    });
  });

  describe('servers', () => {
    storeIt(createStore, 'lists every worker with all its fields', async (store) => {
      await store.heartbeat(server('w1', { startedAt: at(0), heartbeatAt: at(10) }), at(40));
      await store.heartbeat(server('w2', { queues: ['reports'], concurrency: 1, startedAt: at(5), heartbeatAt: at(12) }), at(40));
      const servers = await store.listServers();
      assert.deepEqual(
        [...servers].sort((a, b) => a.name.localeCompare(b.name)),
        [
          server('w1', { startedAt: at(0), heartbeatAt: at(10) }),
          server('w2', { queues: ['reports'], concurrency: 1, startedAt: at(5), heartbeatAt: at(12) }),
        ],
      );
    });

    storeIt(createStore, 'removeServer forgets one worker; an unknown name is a no-op', async (store) => {
      await store.heartbeat(server('w1'), at(40));
      await store.heartbeat(server('w2'), at(40));
      await store.removeServer('w1');
      await store.removeServer('never-registered');
      assert.deepEqual(
        (await store.listServers()).map((s) => s.name),
        ['w2'],
      );
    });

    storeIt(createStore, 'removeStaleServers forgets workers whose last heartbeat is before the cutoff', async (store) => {
      await store.heartbeat(server('old', { heartbeatAt: at(10) }), at(40));
      await store.heartbeat(server('older', { heartbeatAt: at(5) }), at(40));
      await store.heartbeat(server('fresh', { heartbeatAt: at(60) }), at(90));
      await store.heartbeat(server('boundary', { heartbeatAt: at(30) }), at(60));

      assert.equal(await store.removeStaleServers(at(30)), 2);
      assert.deepEqual(sorted((await store.listServers()).map((s) => s.name)), ['boundary', 'fresh']);
      assert.equal(await store.removeStaleServers(at(30)), 0);
    });

    storeIt(createStore, 'a worker that heartbeats again after being removed is listed again', async (store) => {
      await store.heartbeat(server('w1', { heartbeatAt: at(10) }), at(40));
      assert.equal(await store.removeStaleServers(at(20)), 1);
      await store.heartbeat(server('w1', { heartbeatAt: at(25) }), at(55));
      assert.deepEqual(await store.listServers(), [server('w1', { heartbeatAt: at(25) })]);
    });
  });
}
