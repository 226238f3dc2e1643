import { describe } from 'node:test';
import type { Store } from '../store.ts';
import { batchesContract } from './batches.contract.ts';
import { claimingContract } from './claiming.contract.ts';
import { concurrencyKeysContract } from './concurrency-keys.contract.ts';
import { countersContract } from './counters.contract.ts';
import { debounceContract } from './debounce.contract.ts';
import { eventsContract } from './events.contract.ts';
import { jobsContract } from './jobs.contract.ts';
import { listingContract } from './listing.contract.ts';
import { maintenanceContract } from './maintenance.contract.ts';
import { queueSettingsContract } from './queue-settings.contract.ts';
import { rateLimitsContract } from './rate-limits.contract.ts';
import { recurringContract } from './recurring.contract.ts';
import { resultsContract } from './results.contract.ts';
import { searchContract } from './search.contract.ts';
import { serversContract } from './servers.contract.ts';
import { unreadableRowsContract, type CorruptRows } from './unreadable-rows.contract.ts';

/**
 * The store contract: registers `node:test` tests proving every documented behaviour of the
 * `Store` interface, so every store (embedded SQLite, PostgreSQL, ...) runs the same suite.
 *
 * `createStore` must return a fresh, empty store for each test; the suite calls `migrate()` on it
 * first and `close()` after. The suite only goes through the `Store` interface and treats job ids
 * as opaque strings.
 *
 * ```ts
 * import { storeContract } from 'pilotlight/testing';
 * storeContract('MyStore', () => createMyStore({ ... }));
 * ```
 *
 * With `options.corrupt` (raw SQL on the store's `jobs` table, its schema checks lifted), the suite
 * also proves that rows the store cannot read never make a read throw nor block a claim.
 */
export function storeContract(name: string, createStore: () => Store | Promise<Store>, options: { corrupt?: CorruptRows } = {}): void {
  describe(`${name} (store contract)`, () => {
    jobsContract(createStore);
    claimingContract(createStore);
    maintenanceContract(createStore);
    serversContract(createStore);
    recurringContract(createStore);
    eventsContract(createStore);
    listingContract(createStore);
    searchContract(createStore);
    countersContract(createStore);
    concurrencyKeysContract(createStore);
    queueSettingsContract(createStore);
    rateLimitsContract(createStore);
    debounceContract(createStore);
    resultsContract(createStore);
    batchesContract(createStore);
    if (options.corrupt) unreadableRowsContract(createStore, options.corrupt);
  });
}
