export { storeContract } from './store-contract.ts';
export type { StoreFactory } from './fixtures.ts';
