/**
 * A job a debounced job replaced is `Deleted` by the store itself, in `createJobs()`: it expires
 * when `debouncedJobExpiry()` says (the default deleted retention), and maintenance then deletes it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debouncedJobExpiry } from 'pilotlight/store-kit';
import { newJob } from 'pilotlight/testing';
import { createPostgresStore, type PostgresStore } from '../src/index.ts';
import { ownSchema, TEST_DATABASE_URL } from './support/schemas.ts';

describe('PostgreSQL debounce retention', () => {
  it('deletes a replaced job once the default deleted retention has run out, and not before', async () => {
    let store: PostgresStore | undefined;
    const schema = ownSchema(() => store?.close() ?? Promise.resolve());
    store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 });

    const replacedAt = new Date('2030-01-01T00:00:00Z');
    const first = { name: 'Enqueued' as const, reason: 'Enqueued', at: new Date(replacedAt.getTime() - 1_000) };
    const [older] = await store.createJobs([newJob({ debounceKey: 'k', state: first })]);
    const [newer] = await store.createJobs([newJob({ debounceKey: 'k', state: { ...first, at: replacedAt } })]);
    assert.equal(newer!.replacedId, older!.id);
    assert.equal((await store.getJob(older!.id))?.state, 'Deleted');

    const expiry = debouncedJobExpiry(replacedAt).getTime();
    assert.ok(expiry > replacedAt.getTime(), 'a replaced job is kept for a while');
    assert.equal(await store.deleteExpiredJobs(new Date(expiry - 1), 100), 0, 'kept until its retention runs out');
    assert.equal((await store.getJob(older!.id))?.state, 'Deleted');

    assert.equal(await store.deleteExpiredJobs(new Date(expiry), 100), 1, 'the replaced job, and only it');
    assert.equal(await store.getJob(older!.id), undefined);
    assert.equal((await store.getJob(newer!.id))?.state, 'Enqueued', 'the waiting job stays');
  });
});
