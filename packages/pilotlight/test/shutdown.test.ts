import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSqliteStore } from '../src/sqlite.ts';
import { defineJob, JobCancelledError, silentLogger, type JobFilter, type PerformedContext } from '../src/index.ts';
import { tempDir, tempStore, testClient, testWorker, waitFor, waitForState, wrapStore } from './support/helpers.ts';

/** A job that runs until released or aborted, reporting what its signal said. */
function gatedJob(name: string) {
  const aborts: unknown[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const job = defineJob(name, async (_: void, context) => {
    await new Promise<void>((resolve, reject) => {
      released.then(resolve);
      context.signal.addEventListener('abort', () => {
        aborts.push(context.signal.reason);
        reject(context.signal.reason);
      });
    });
  });
  return { job, aborts, release: () => release() };
}

/** The handles and requests keeping the process alive (the terminal's aside), to compare before and after. */
function activeResources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'TTYWrap')
    .sort();
}

describe('cancellation and shutdown', () => {
  it('aborts a running job when it is deleted, and keeps it Deleted', async () => {
    const store = tempStore();
    const client = testClient(store);
    const { job, aborts } = gatedJob('long');
    const performed: PerformedContext[] = [];
    const worker = testWorker({ store, jobs: [job], filters: [{ onPerformed: (context) => void performed.push(context) }] });
    await worker.start();
    const id = await client.enqueue(job, undefined);
    await waitForState(client, id, 'Processing');
    assert.equal(await client.delete(id, 'Tenant cancelled'), true);
    await waitFor(() => performed.length === 1, 'the attempt to end');
    assert.ok(aborts[0] instanceof JobCancelledError);
    assert.equal((aborts[0] as JobCancelledError).code, 'JOB_CANCELLED');
    assert.equal((aborts[0] as JobCancelledError).reason, 'deleted');
    assert.equal(performed[0]!.cancelled, true);
    assert.equal(performed[0]!.finalState, undefined);
    const deleted = await client.getJob(id);
    assert.equal(deleted!.state, 'Deleted');
    assert.equal(deleted!.stateReason, 'Tenant cancelled');
    assert.deepEqual(
      (await client.getHistory(id)).map((s) => s.name),
      ['Enqueued', 'Processing', 'Deleted'],
    );
    assert.equal(await client.delete(id), false, 'deleting twice is a no-op');
  });

  it('aborts a running job deleted by another process (seen at the next heartbeat)', async () => {
    const path = join(tempDir(), 'shared.db');
    const workerStore = createSqliteStore({ path });
    const apiStore = createSqliteStore({ path });
    const { job, aborts } = gatedJob('long');
    const worker = testWorker({ store: workerStore, jobs: [job] });
    await worker.start();
    const api = testClient(apiStore);
    const id = await api.enqueue(job, undefined);
    await waitForState(api, id, 'Processing');
    await api.delete(id);
    await waitFor(() => aborts.length === 1, 'the abort');
    assert.equal((aborts[0] as JobCancelledError).reason, 'deleted');
    await worker.stop();
    await workerStore.close();
    await apiStore.close();
  });

  it('waits for running jobs to finish when they finish within shutdownTimeout', async () => {
    const store = tempStore();
    const client = testClient(store);
    const { job, release } = gatedJob('finishing');
    const worker = testWorker({ store, jobs: [job], shutdownTimeout: 5_000 });
    await worker.start();
    const id = await client.enqueue(job, undefined);
    await waitForState(client, id, 'Processing');
    const stopped = worker.stop();
    setTimeout(release, 100);
    await stopped;
    assert.equal((await client.getJob(id))!.state, 'Succeeded');
    assert.equal(worker.status, 'stopped');
    assert.deepEqual(await store.listServers(), []);
  });

  it('aborts jobs still running after shutdownTimeout and hands them back without spending an attempt', async () => {
    const store = tempStore();
    const client = testClient(store);
    const { job, aborts } = gatedJob('interrupted');
    const first = testWorker({ store, jobs: [job], shutdownTimeout: 100 });
    await first.start();
    const id = await client.enqueue(job, undefined);
    await waitForState(client, id, 'Processing');
    await first.stop();
    assert.equal((aborts[0] as JobCancelledError).reason, 'shutdown');
    const handedBack = await client.getJob(id);
    assert.equal(handedBack!.state, 'Enqueued');
    assert.equal(handedBack!.attempt, 0);
    assert.match(handedBack!.stateReason!, /stopped during attempt 1; job handed back/);
    const ok = defineJob('interrupted', () => 'done');
    const second = testWorker({ store, jobs: [ok] });
    await second.start();
    const done = await waitForState(client, id, 'Succeeded');
    assert.equal(done.attempt, 1);
  });

  it('does not hang on a handler that ignores its AbortSignal: the job is handed back', async () => {
    const store = tempStore();
    const client = testClient(store);
    const stubborn = defineJob('stubborn', () => new Promise(() => undefined));
    const worker = testWorker({ store, jobs: [stubborn], shutdownTimeout: 100 });
    await worker.start();
    const id = await client.enqueue(stubborn, undefined);
    await waitForState(client, id, 'Processing');
    const started = Date.now();
    await worker.stop();
    assert.ok(Date.now() - started < 3_000, 'stop() returned');
    const job = await client.getJob(id);
    assert.equal(job!.state, 'Enqueued');
    assert.match(job!.stateReason!, /ignored the abort signal/);
  });

  it('leaves no timer, watcher or handle behind after stop() and close()', async () => {
    const before = activeResources();
    const store = createSqliteStore({ path: join(tempDir(), 'leak.db') });
    const client = testClient(store);
    const job = defineJob('quick', () => undefined);
    const worker = testWorker({ store, jobs: [job] });
    await worker.start();
    await waitForState(client, await client.enqueue(job, undefined), 'Succeeded');
    await worker.stop();
    await store.close();
    await new Promise((resolve) => setImmediate(resolve));
    const after = activeResources();
    assert.deepEqual(after, before);
  });

  it('stop() called while start() is registering the worker waits for it, then leaves no timer and no server record', async () => {
    const store = createSqliteStore({ path: join(tempDir(), 'starting.db') });
    let release!: () => void;
    const registered = new Promise<void>((resolve) => (release = resolve));
    const slowFirstBeat = wrapStore(store, { heartbeat: async (...args) => (await registered, store.heartbeat(...args)) });
    const before = activeResources();
    const worker = testWorker({ store: slowFirstBeat, jobs: [] });
    const starting = worker.start();
    const stopping = worker.stop();
    release();
    await Promise.all([starting, stopping]);
    assert.equal(worker.status, 'stopped');
    assert.deepEqual(await store.listServers(), []);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(activeResources(), before);
    await store.close();
  });

  it('stops by itself, saying why, when its store is closed under it, and leaves no timer behind', async () => {
    const before = activeResources();
    const store = createSqliteStore({ path: join(tempDir(), 'closed-under.db') });
    const client = testClient(store);
    const { job, release } = gatedJob('held');
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => errors.push(message) };
    const worker = testWorker({ store, jobs: [job], logger });
    await worker.start();
    await waitForState(client, await client.enqueue(job, undefined), 'Processing');
    await store.close(); // the application's mistake: the worker is still running a job
    release();
    await waitFor(() => worker.status === 'stopped', 'the worker to stop by itself', 5_000);
    assert.ok(
      errors.some((message) =>
        /store was closed while the worker was running.*await worker\.stop\(\), then store\.close\(\)/.test(message),
      ),
      `one error saying what to do; logged: ${JSON.stringify(errors)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(activeResources(), before);
  });
  it('stops on SIGTERM when handleSignals is on, and removes its listeners', async () => {
    const store = tempStore();
    const listeners = process.listenerCount('SIGTERM');
    const worker = testWorker({ store, jobs: [], handleSignals: true });
    await worker.start();
    assert.equal(process.listenerCount('SIGTERM'), listeners + 1);
    process.emit('SIGTERM', 'SIGTERM');
    await waitFor(() => worker.status === 'stopped', 'the worker to stop');
    assert.equal(process.listenerCount('SIGTERM'), listeners);
  });

  it('keeps working when a filter throws in every hook', async () => {
    const store = tempStore();
    const client = testClient(store);
    const errors: string[] = [];
    const explode = () => {
      throw new Error('filter bug');
    };
    const broken: JobFilter = {
      onPerforming: explode,
      onPerformed: async () => Promise.reject(new Error('async filter bug')),
      onStateElection: explode,
      onStateApplied: explode,
      onStateUnapplied: explode,
    };
    const job = defineJob('fine', () => 'ok');
    const logger = { debug() {}, info() {}, warn() {}, error: (message: string) => void errors.push(message) };
    const worker = testWorker({ store, jobs: [job], filters: [broken], logger });
    await worker.start();
    const id = await client.enqueue(job, undefined);
    await waitForState(client, id, 'Succeeded');
    await waitFor(() => errors.some((e) => e.includes('onPerformed')), 'the onPerformed error to be logged');
    assert.ok(errors.some((e) => e === 'filter.onPerforming threw; the job goes on'));
    assert.ok(errors.some((e) => e.includes('onStateElection')));
  });
});
