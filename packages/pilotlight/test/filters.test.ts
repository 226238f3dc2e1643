import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, defineJob, silentLogger, type JobFilter } from '../src/index.ts';
import { tempStore, testWorker, waitFor, waitForState } from './support/helpers.ts';

describe('filters', () => {
  it('run around creation, execution and every state change, carrying what a tracer needs', async () => {
    const store = tempStore();
    const events: string[] = [];
    const SPAN = Symbol('span');
    const recorder: JobFilter = {
      onCreating(context) {
        context.items.set(SPAN, `producer:${context.job.type}`);
        context.metadata.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
        events.push(`creating ${context.job.type} ${context.job.initialState.name}`);
      },
      onCreated(context) {
        events.push(`created ${context.jobId} created=${context.created} span=${String(context.items.get(SPAN))}`);
      },
      onPerforming(context) {
        context.items.set(SPAN, `consumer:${context.job.id}:${context.job.attempt}`);
        events.push(`performing ${context.job.id} on ${context.serverName === worker.name}`);
      },
      onPerformed(context) {
        events.push(
          `performed ${context.job.id} failed=${context.failed} final=${context.finalState?.name} span=${String(context.items.get(SPAN))}`,
        );
      },
      onStateElection(context) {
        events.push(`elect ${context.currentState}->${context.candidate.name}`);
      },
      onStateUnapplied(context) {
        events.push(`unapplied ${context.oldState}`);
      },
      onStateApplied(context) {
        events.push(`applied ${context.oldState}->${context.newState.name} span=${String(context.items.get(SPAN))}`);
      },
    };
    const client = createClient({ store, filters: [recorder], logger: silentLogger });
    const job = defineJob('traced', (_: void, context) => {
      if (context.attempt === 1) throw new Error('first attempt fails');
    });
    const worker = testWorker({ store, jobs: [job], filters: [recorder], retry: { backoff: 0 } });
    const id = await client.enqueue(job, undefined);
    assert.deepEqual((await client.getJob(id))!.metadata, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await worker.start();
    await waitForState(client, id, 'Succeeded');
    await waitFor(() => events.filter((e) => e.startsWith('performed')).length === 2, 'two attempts to end');
    assert.deepEqual(events, [
      'creating traced Enqueued',
      `applied undefined->Enqueued span=producer:traced`,
      `created ${id} created=true span=producer:traced`,
      `unapplied Enqueued`,
      `applied Enqueued->Processing span=undefined`,
      `performing ${id} on true`,
      `elect Processing->Scheduled`, // the built-in retry filter (order -100) elected the retry first
      `unapplied Processing`,
      `applied Processing->Scheduled span=consumer:${id}:1`,
      `performed ${id} failed=true final=Scheduled span=consumer:${id}:1`,
      `elect Scheduled->Enqueued`,
      `unapplied Scheduled`,
      `applied Scheduled->Enqueued span=undefined`,
      `unapplied Enqueued`,
      `applied Enqueued->Processing span=undefined`,
      `performing ${id} on true`,
      `elect Processing->Succeeded`,
      `unapplied Processing`,
      `applied Processing->Succeeded span=consumer:${id}:2`,
      `performed ${id} failed=false final=Succeeded span=consumer:${id}:2`,
    ]);
  });

  it('run in order: lower order first, and closing hooks in reverse', async () => {
    const store = tempStore();
    const calls: string[] = [];
    const filter = (name: string, order?: number): JobFilter => ({
      ...(order !== undefined && { order }),
      onCreating: () => void calls.push(`${name}.creating`),
      onCreated: () => void calls.push(`${name}.created`),
    });
    const client = createClient({ store, filters: [filter('b'), filter('a', -1), filter('c', 5)], logger: silentLogger });
    await client.enqueue(
      defineJob('x', () => undefined),
      undefined,
    );
    assert.deepEqual(calls, ['a.creating', 'b.creating', 'c.creating', 'c.created', 'b.created', 'a.created']);
  });

  it('can elect another state: a filter that sends failures to a dead-letter queue instead of retrying', async () => {
    const store = tempStore();
    const deadLetter: JobFilter = {
      order: 10, // after the built-in retry filter
      onStateElection(context) {
        if (context.candidate.name === 'Scheduled' && context.candidate.retry) {
          context.candidate = { name: 'Deleted', reason: `Dead-lettered: ${context.candidate.error?.message}` };
        }
      },
    };
    const client = createClient({ store, logger: silentLogger });
    const job = defineJob('poison', () => {
      throw new Error('bad message');
    });
    const worker = testWorker({ store, jobs: [job], filters: [deadLetter] });
    await worker.start();
    const id = await client.enqueue(job, undefined);
    const deleted = await waitForState(client, id, 'Deleted');
    assert.equal(deleted.stateReason, 'Dead-lettered: bad message');
  });
});
