export { storeContract } from './store-contract.ts';
export { newJob, type StoreFactory } from './fixtures.ts';
