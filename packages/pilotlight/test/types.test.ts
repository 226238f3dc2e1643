import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineJob, type Client, type JobContext } from '../src/index.ts';
import { tempStore, testClient } from './support/helpers.ts';

/**
 * Compile-time guarantees, checked by `npm run typecheck` (tsc): each `@ts-expect-error` line must
 * fail to compile, or tsc reports the directive as unused and the build fails.
 */
const sendEmail = defineJob('email.send', async (args: { to: string; cc?: string[] }) => args.to.length);
const noArgs = defineJob('tick', async () => undefined);

class TenantService {
  async provisionTenant(tenantId: string, seats: number, _context: JobContext) {
    return `${tenantId}:${seats}`;
  }
  deactivate(tenantId: string) {
    return tenantId;
  }
  readonly region = 'eu';
}

async function typeChecks(client: Client): Promise<void> {
  await client.enqueue(sendEmail, { to: 'a@example.com' });
  await client.enqueue(sendEmail, { to: 'a@example.com', cc: ['b@example.com'] }, { queue: 'mail', priority: 5 });
  // @ts-expect-error wrong argument type
  await client.enqueue(sendEmail, { to: 42 });
  // @ts-expect-error missing required property
  await client.enqueue(sendEmail, {});
  // @ts-expect-error unknown option
  await client.enqueue(sendEmail, { to: 'a' }, { queues: 'mail' });
  await client.enqueue(noArgs, undefined);

  await client.enqueue(TenantService, 'provisionTenant', ['t-1', 3]);
  await client.enqueue(TenantService, 'deactivate', ['t-1']);
  // @ts-expect-error wrong argument type for the method
  await client.enqueue(TenantService, 'provisionTenant', ['t-1', 'three']);
  // @ts-expect-error missing argument
  await client.enqueue(TenantService, 'provisionTenant', ['t-1']);
  // @ts-expect-error not a method
  await client.enqueue(TenantService, 'region', []);
  // @ts-expect-error no such method
  await client.enqueue(TenantService, 'provision', ['t-1', 3]);

  await client.schedule(sendEmail, { to: 'a' }, { delay: 1000 });
  await client.schedule(TenantService, 'deactivate', ['t-1'], { at: new Date() });
  // @ts-expect-error schedule needs its timing options
  await client.schedule(sendEmail, { to: 'a' });
  await client.continueWith('1', TenantService, 'deactivate', ['t-1']);
  // @ts-expect-error wrong argument type in a continuation
  await client.continueWith('1', sendEmail, { to: 1 });
  await client.recurring.addOrUpdate('daily', '0 6 * * *', sendEmail, { to: 'a' }, { timeZone: 'Europe/Paris', misfire: 'skip' });
  // @ts-expect-error unknown misfire policy
  await client.recurring.addOrUpdate('daily', '0 6 * * *', sendEmail, { to: 'a' }, { misfire: 'sometimes' });
  await client.enqueueMany(sendEmail, [{ to: 'a' }, { to: 'b' }]);
  // @ts-expect-error wrong element type in a bulk enqueue
  await client.enqueueMany(sendEmail, [{ to: 'a' }, { to: 2 }]);
  // @ts-expect-error the SQLite store writes no job inside a transaction of the caller's
  await client.enqueue(sendEmail, { to: 'a' }, { transaction: {} });
}

/** A store that takes the caller's transaction (as `@pilotlight/postgres` takes a pg client) types the option. */
interface AppTransaction {
  query(sql: string): Promise<unknown>;
}
async function transactionTypeChecks(client: Client<AppTransaction>, tx: AppTransaction): Promise<void> {
  await client.enqueue(sendEmail, { to: 'a' }, { transaction: tx });
  await client.schedule(sendEmail, { to: 'a' }, { delay: 10, transaction: tx });
  await client.enqueueMany(sendEmail, [{ to: 'a' }], { transaction: tx });
  // @ts-expect-error not the store's kind of transaction
  await client.enqueue(sendEmail, { to: 'a' }, { transaction: 'BEGIN' });
}

it('the calls that type-check also run', async () => {
  const client = testClient(tempStore());
  // The @ts-expect-error lines are invalid on purpose; run only the valid calls here.
  const first = await client.enqueue(sendEmail, { to: 'a@example.com' });
  const second = await client.enqueue(TenantService, 'provisionTenant', ['t-1', 3]);
  assert.deepEqual((await client.getJob(first))!.args, [{ to: 'a@example.com' }]);
  assert.deepEqual((await client.getJob(second))!.args, ['t-1', 3]);
  assert.equal(typeof typeChecks, 'function');
  assert.equal(typeof transactionTypeChecks, 'function');
});
