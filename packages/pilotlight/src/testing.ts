/**
 * `pilotlight/testing`: the store contract suite. Run it (with `node:test`) against a store of your
 * own to prove it behaves as the engine expects; every Pilotlight store passes it.
 */
export { storeContract } from './storage/contract/store-contract.ts';
export type { CorruptRows } from './storage/contract/unreadable-rows.contract.ts';
export { newJob, type StoreFactory } from './storage/contract/fixtures.ts';
