/**
 * The command-line scenario both stores pass (cli.test.ts on a SQLite file, cli-postgres.test.ts on
 * the PostgreSQL server in a schema of its own): every command's human and `--json` output on a
 * seeded store, requeue and delete checked through the store, and the dashboard served, then
 * stopped by SIGINT.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from 'pilotlight';
import { cli, FAILURE, parsed, seed, seedFlowControl, shown, startDashboard, type CliResult, type Seeded } from './cli-support.ts';

export interface Target {
  readonly name: string;
  /** Opens the store the commands read: the test creates it (the commands never create one). */
  open(): Promise<Store<unknown>>;
  /** The store options of every command. */
  readonly args: () => readonly string[];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The line of a table whose first cell is `first`, split into its cells. */
function rowOf(result: CliResult, first: string): string[] {
  const line = result.stdout.split('\n').find((candidate) => candidate.trim().split(/\s{2,}/)[0] === first);
  assert.ok(line !== undefined, `a row starting with '${first}'\n${shown(result)}`);
  return line.trim().split(/\s{2,}/);
}

function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, shown(result));
  assert.doesNotMatch(result.stdout, /\x1b\[/, 'no colours: stdout is not a terminal');
  return result;
}

export function commandScenario(target: Target): void {
  describe(`${target.name}: the pilotlight commands on a seeded store`, () => {
    let store: Store<unknown>;
    let stopWorker: () => Promise<void>;
    let ids: Seeded;
    const run = (...args: string[]) => cli([...args, ...target.args()]);

    before(async () => {
      store = await target.open();
      ({ ids, stop: stopWorker } = await seed(store));
    });
    after(async () => {
      await stopWorker?.();
      await store?.close();
    });

    it('stats --json: the count per state, per queue with its oldest waiting job, and the workers alive', async () => {
      const stats = parsed(ok(await run('stats', '--json')));
      assert.deepEqual(Object.keys(stats), ['states', 'total', 'queues', 'workers']);
      assert.deepEqual(stats.states, { Enqueued: 1, Scheduled: 1, Awaiting: 1, Processing: 0, Succeeded: 1, Failed: 1, Deleted: 1 });
      assert.equal(stats.total, 6);
      assert.deepEqual(
        stats.queues.map((queue: any) => queue.queue),
        ['default', 'emails'],
      );
      const emails = stats.queues[1];
      assert.deepEqual(Object.keys(emails), [
        'queue',
        'counts',
        'oldestEnqueuedAt',
        'oldestWaitingMs',
        'paused',
        'concurrencyLimit',
        'rateLimit',
      ]);
      assert.deepEqual([emails.paused, emails.concurrencyLimit, emails.rateLimit], [false, null, null], 'a queue never paused nor limited');
      assert.equal(emails.counts.Enqueued, 1);
      assert.match(emails.oldestEnqueuedAt, ISO);
      assert.ok(emails.oldestWaitingMs >= 0 && emails.oldestWaitingMs < 120_000, `oldest waiting ${emails.oldestWaitingMs} ms`);
      assert.equal(stats.queues[0].oldestEnqueuedAt, null, 'nothing waits in default');
      assert.equal(stats.workers.alive, 1);
      assert.deepEqual(Object.keys(stats.workers.servers[0]), ['name', 'queues', 'concurrency', 'startedAt', 'heartbeatAt', 'alive']);
      assert.deepEqual(stats.workers.servers[0].queues, ['idle']);
      assert.equal(stats.workers.servers[0].alive, true);
    });

    it('stats: aligned tables of states, queues and workers', async () => {
      const result = ok(await run('stats'));
      assert.match(result.stdout, /^Jobs: 6$/m);
      assert.deepEqual(rowOf(result, 'Failed'), ['Failed', '1']);
      assert.deepEqual(rowOf(result, 'Processing'), ['Processing', '0']);
      assert.match(result.stdout, /^Queues: 2$/m);
      const emails = rowOf(result, 'emails');
      assert.deepEqual(emails.slice(1, 8), ['1', '0', '0', '0', '0', '0', '0'], 'emails: 1 Enqueued');
      assert.match(emails[8]!, /^(?:now|\d+ (?:s|min) ago)$/, 'the oldest waiting job has an age, as every relative time says it');
      assert.match(result.stdout, /^Workers: 1 alive$/m);
      assert.match(
        rowOf(result, 'QUEUE').join(' '),
        /QUEUE ENQUEUED SCHEDULED AWAITING PROCESSING SUCCEEDED FAILED DELETED OLDEST WAITING FLOW CONTROL/,
      );
      // Aligned: every row of the queues table starts its columns where the header does.
      const header = result.stdout.split('\n').find((line) => line.includes('OLDEST WAITING'))!;
      const row = result.stdout.split('\n').find((line) => line.trim().startsWith('emails'))!;
      assert.equal(row.indexOf(emails[8]!), header.indexOf('OLDEST WAITING'), `aligned columns\n${result.stdout}`);
    });

    it('jobs --json: newest first, filtered by state, queue, type and text, in pages with --before', async () => {
      const all = parsed(ok(await run('jobs', '--json')));
      const newestFirst = [ids.awaiting, ids.deleted, ids.enqueued, ids.scheduled, ids.failed, ids.succeeded];
      assert.deepEqual(
        all.jobs.map((job: any) => job.id),
        newestFirst,
      );
      assert.equal(all.next, null, 'one page holds them all');
      const failed = all.jobs.find((job: any) => job.id === ids.failed);
      assert.deepEqual(Object.keys(failed), [
        'id',
        'state',
        'stateReason',
        'type',
        'method',
        'queue',
        'priority',
        'args',
        'metadata',
        'attempt',
        'retryCount',
        'createdAt',
        'stateChangedAt',
        'runAt',
        'parentId',
        'hasContinuations',
        'dedupKey',
        'recurringId',
        'serverName',
        'leaseUntil',
        'progress',
        'concurrency',
        'rateLimit',
        'debounceKey',
        'batchId',
        'awaitsBatch',
        'result',
      ]);
      assert.equal(failed.state, 'Failed');
      assert.match(failed.createdAt, ISO);
      assert.equal(failed.dedupKey, null, 'absent values are null');
      assert.deepEqual(
        [failed.concurrency, failed.rateLimit, failed.debounceKey, failed.batchId, failed.awaitsBatch, failed.result],
        [null, null, null, null, null, null],
        'no flow control, no batch, no result',
      );
      assert.equal(all.jobs.find((job: any) => job.id === ids.succeeded).result, 'hello Ada', 'the handler’s result, parsed');

      const ofState = async (...filter: string[]) => parsed(ok(await run('jobs', '--json', ...filter))).jobs.map((job: any) => job.id);
      assert.deepEqual(await ofState('--state', 'Failed'), [ids.failed]);
      assert.deepEqual(await ofState('--state', 'scheduled'), [ids.scheduled], 'states in any case');
      assert.deepEqual(await ofState('--queue', 'emails'), [ids.enqueued]);
      assert.deepEqual(await ofState('--type', 'app.flaky'), [ids.failed]);
      assert.deepEqual(await ofState('--search', 'Grace'), [ids.scheduled], 'the text is in its arguments');
      assert.deepEqual(await ofState('--search', 'app.email'), [ids.enqueued], 'the text is its type');

      const first = parsed(ok(await run('jobs', '--json', '--limit', '4')));
      assert.deepEqual(
        first.jobs.map((job: any) => job.id),
        newestFirst.slice(0, 4),
      );
      assert.equal(first.next, newestFirst[3]);
      const second = parsed(ok(await run('jobs', '--json', '--limit', '4', '--before', first.next)));
      assert.deepEqual(
        second.jobs.map((job: any) => job.id),
        newestFirst.slice(4),
      );
      assert.equal(second.next, null);
    });

    it('jobs: a table, and the --before value of the next page', async () => {
      const result = ok(await run('jobs', '--limit', '2'));
      assert.deepEqual(
        result.stdout
          .split('\n')[0]!
          .trim()
          .split(/\s{2,}/),
        ['ID', 'STATE', 'JOB', 'QUEUE', 'ATTEMPT', 'CREATED', 'CHANGED', 'REASON'],
      );
      const awaiting = rowOf(result, ids.awaiting);
      assert.deepEqual(awaiting.slice(1, 5), ['Awaiting', 'app.greet', 'default', '0']);
      assert.match(awaiting[5]!, /^(?:\d+ s ago|now)$/);
      assert.equal(awaiting[7], `Waiting for job ${ids.scheduled} to succeed`);
      assert.deepEqual(rowOf(result, ids.deleted).slice(1, 3), ['Deleted', 'app.greet']);
      assert.match(result.stdout, new RegExp(`^Next page: --before ${ids.deleted}$`, 'm'));
      const last = ok(await run('jobs', '--state', 'Succeeded'));
      assert.doesNotMatch(last.stdout, /Next page/, 'a last page has no next');
      const none = ok(await run('jobs', '--queue', 'nowhere'));
      assert.equal(none.stdout, 'No jobs.\n');
    });

    it('job ID --json: the job with its arguments and metadata, its history with each failed attempt’s exception', async () => {
      const failed = parsed(ok(await run('job', ids.failed, '--json')));
      assert.deepEqual(Object.keys(failed), ['job', 'history']);
      assert.equal(failed.job.id, ids.failed);
      assert.deepEqual(
        failed.history.map((state: any) => state.name),
        ['Enqueued', 'Processing', 'Failed'],
      );
      const failure = failed.history[2];
      assert.deepEqual(Object.keys(failure), ['name', 'at', 'reason', 'runAt', 'retry', 'serverName', 'attempt', 'error']);
      assert.match(failure.at, ISO);
      assert.equal(failure.error.type, 'TypeError');
      assert.equal(failure.error.message, FAILURE);
      assert.match(failure.error.stack, /\n\s+at /, 'the stack');
      assert.equal(failed.history[1].attempt, 1);

      const enqueued = parsed(ok(await run('job', ids.enqueued, '--json')));
      assert.deepEqual(enqueued.job.args, [{ to: 'ops@example.com' }]);
      assert.equal(enqueued.job.metadata.tenant, 'acme');
      assert.equal(enqueued.job.result, null);

      assert.equal(parsed(ok(await run('job', ids.succeeded, '--json'))).job.result, 'hello Ada');
    });

    it('job ID: fields, arguments, metadata, history with reasons and the exception; a missing job exits 1', async () => {
      const failed = ok(await run('job', ids.failed));
      assert.match(failed.stdout, new RegExp(`^Job ${ids.failed}  Failed  Failed after 1 attempt`, 'm'));
      assert.match(failed.stdout, /^ {2}job +app\.flaky$/m);
      assert.match(failed.stdout, /^History \(oldest first\)$/m);
      assert.match(failed.stdout, /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}Processing {2}attempt 1, on /m);
      assert.match(failed.stdout, new RegExp(`^ {6}TypeError: ${FAILURE}$`, 'm'));
      assert.match(failed.stdout, /^ {10}at /m, 'the stack, under the error');

      const enqueued = ok(await run('job', ids.enqueued));
      assert.match(enqueued.stdout, /^Arguments\n {2}\[\n {4}\{\n {6}"to": "ops@example\.com"/m);
      assert.match(enqueued.stdout, /^Metadata\n {2}KEY +VALUE\n {2}tenant +acme$/m);
      assert.doesNotMatch(enqueued.stdout, /^Result$/m, 'no result before it succeeds');
      assert.doesNotMatch(failed.stdout, /^Result$/m);
      assert.doesNotMatch(failed.stdout, /concurrency|rate limit|debounce key|batch/, 'no flow control shown without any');

      const succeeded = ok(await run('job', ids.succeeded));
      assert.match(succeeded.stdout, /^Result\n {2}"hello Ada"$/m);

      const missing = await run('job', 'no-such-job');
      assert.equal(missing.code, 1, shown(missing));
      assert.equal(missing.stdout, '');
      assert.match(missing.stderr, /there is no job no-such-job/);
    });

    it('recurring: id, cron, time zone, next and last run (human and --json)', async () => {
      const listed = parsed(ok(await run('recurring', '--json')));
      assert.equal(listed.recurring.length, 1);
      const digest = listed.recurring[0];
      assert.deepEqual(Object.keys(digest), [
        'id',
        'cron',
        'timeZone',
        'type',
        'method',
        'queue',
        'misfire',
        'nextRunAt',
        'lastRunAt',
        'lastJobId',
        'createdAt',
      ]);
      assert.equal(digest.id, ids.recurringId);
      assert.equal(digest.cron, '0 6 * * *');
      assert.equal(digest.timeZone, 'Europe/Paris');
      assert.match(digest.nextRunAt, ISO);
      assert.ok(new Date(digest.nextRunAt).getTime() > Date.now());
      assert.equal(digest.lastRunAt, null);

      const table = ok(await run('recurring'));
      const row = rowOf(table, ids.recurringId);
      assert.deepEqual(row.slice(0, 5), [ids.recurringId, '0 6 * * *', 'Europe/Paris', 'app.greet', 'default']);
      assert.match(row[5]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:00 UTC \(in .+\)$/);
      assert.equal(row[6], 'never');
    });

    it('requeue ID...: each id requeued, already in that state, or not found (exit 1); the change is in the store', async () => {
      const result = await run('requeue', ids.failed, ids.enqueued, 'no-such-job', '--json');
      assert.equal(result.code, 1, `an id was not found\n${shown(result)}`);
      assert.deepEqual(parsed(result), {
        results: [
          { id: ids.failed, result: 'requeued', state: 'Enqueued' },
          { id: ids.enqueued, result: 'already', state: 'Enqueued' },
          { id: 'no-such-job', result: 'not-found', state: null },
        ],
      });
      const job = await store.getJob(ids.failed);
      assert.equal(job?.state, 'Enqueued');
      const history = await store.getHistory(ids.failed);
      assert.equal(history.at(-1)?.reason, 'Requeued from the command line');

      const again = ok(await run('requeue', ids.succeeded, '--reason', 'ticket 42'));
      assert.deepEqual(rowOf(again, ids.succeeded), [ids.succeeded, 'requeued', 'Enqueued']);
      assert.equal((await store.getHistory(ids.succeeded)).at(-1)?.reason, 'ticket 42');
    });

    it('delete ID...: deleted or already deleted (exit 0); the change is in the store', async () => {
      const result = ok(await run('delete', ids.scheduled, ids.deleted));
      assert.deepEqual(rowOf(result, 'ID'), ['ID', 'RESULT', 'STATE']);
      assert.deepEqual(rowOf(result, ids.scheduled), [ids.scheduled, 'deleted', 'Deleted']);
      assert.deepEqual(rowOf(result, ids.deleted), [ids.deleted, 'already in that state', 'Deleted']);
      assert.equal((await store.getJob(ids.scheduled))?.state, 'Deleted');
      assert.equal((await store.getHistory(ids.scheduled)).at(-1)?.reason, 'Deleted from the command line');
      const missing = await run('delete', 'no-such-job');
      assert.equal(missing.code, 1, shown(missing));
      assert.deepEqual(rowOf(missing, 'no-such-job'), ['no-such-job', 'not found']);
    });

    it('job ID and stats: flow control, batches and queue settings (human and --json)', async () => {
      const flow = await seedFlowControl(store);
      const member = parsed(ok(await run('job', flow.member, '--json'))).job;
      assert.deepEqual(member.concurrency, { key: 'tenant-acme', limit: 2 });
      assert.deepEqual(member.rateLimit, { key: 'smtp', max: 5, per: 60_000 });
      assert.equal(member.batchId, flow.batchId);
      assert.deepEqual([member.debounceKey, member.awaitsBatch, member.result], [null, null, null]);
      const continuation = parsed(ok(await run('job', flow.continuation, '--json'))).job;
      assert.deepEqual(continuation.awaitsBatch, { batchId: flow.batchId, when: 'finished' });
      assert.equal(continuation.state, 'Awaiting');
      assert.equal(parsed(ok(await run('job', flow.debounced, '--json'))).job.debounceKey, 'greet-debby');

      const memberText = ok(await run('job', flow.member)).stdout;
      assert.match(memberText, /^ {2}concurrency +tenant-acme {2}\(at most 2 at once\)$/m);
      assert.match(memberText, /^ {2}rate limit +smtp {2}\(5 per 1 min\)$/m);
      assert.match(memberText, new RegExp(`^ {2}batch +${flow.batchId}$`, 'm'));
      assert.match(
        ok(await run('job', flow.continuation)).stdout,
        new RegExp(
          `^ {2}awaits batch +${flow.batchId} {2}\\(runs once every member has finished \\(succeeded, failed or deleted\\)\\)$`,
          'm',
        ),
      );
      assert.match(ok(await run('job', flow.debounced)).stdout, /^ {2}debounce key +greet-debby$/m);

      const stats = parsed(ok(await run('stats', '--json')));
      const settings = Object.fromEntries(
        stats.queues.map((queue: any) => [queue.queue, [queue.paused, queue.concurrencyLimit, queue.rateLimit]]),
      );
      assert.deepEqual(settings, {
        default: [false, null, null],
        emails: [true, null, null],
        reports: [false, 3, { max: 10, per: 500 }],
      });
      assert.deepEqual(Object.values(stats.queues[2].counts), [0, 0, 0, 0, 0, 0, 0], 'a limited queue without a job is listed');

      const table = ok(await run('stats'));
      assert.match(table.stdout, /^Queues: 3$/m);
      assert.equal(rowOf(table, 'emails').at(-1), 'paused');
      assert.deepEqual(rowOf(table, 'reports'), ['reports', '0', '0', '0', '0', '0', '0', '0', 'at most 3 at once, 10 per 500 ms']);
      const header = table.stdout.split('\n').find((line) => line.includes('FLOW CONTROL'))!;
      const reports = table.stdout.split('\n').find((line) => line.trim().startsWith('reports'))!;
      assert.equal(reports.indexOf('at most'), header.indexOf('FLOW CONTROL'), `aligned columns\n${table.stdout}`);
    });

    it('dashboard --port 0: prints its URL, serves GET / with 200 and the security headers, exits 0 on SIGINT', async () => {
      const { child, url } = await startDashboard(['--port', '0', ...target.args()]);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      assertSecurityHeaders(response);
      assert.match(await response.text(), /Pilotlight/);
      const job = await fetch(new URL(`jobs/${ids.failed}`, url));
      assert.equal(job.status, 200);
      await job.body?.cancel();

      const started = Date.now();
      child.kill('SIGINT');
      child.kill('SIGINT'); // as under npx, where Ctrl+C reaches it twice: the repeat is ignored
      const exited = await child.exited;
      assert.equal(exited.code, 0, shown(exited));
      assert.match(exited.stdout, /^Pilotlight dashboard stopped \(SIGINT\)\.$/m);
      assert.ok(Date.now() - started < 5_000, `stopped in ${Date.now() - started} ms`);
      assert.equal(exited.stderr, '', 'nothing on stderr');
    });
  });
}

/** The headers every dashboard page carries. */
export function assertSecurityHeaders(response: Response): void {
  assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'|default-src 'self'/);
  assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(response.headers.get('referrer-policy'), 'a Referrer-Policy');
}
