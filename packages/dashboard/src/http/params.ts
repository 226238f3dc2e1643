import { ValidationError, type StateName } from 'pilotlight';
import type { JobAction } from '../actions/applies.ts';
import type { BulkTarget } from '../actions/bulk.ts';
import { LIMITS, TRACE_LIMITS } from '../config/defaults.ts';
import { STATE_NAMES } from '../data/overview.ts';
import type { BatchFilter, JobsFilter, TasksFilter, TracesFilter } from '../html/links.ts';
import { TASK_STATUSES } from '../pages/tasks.ts';

/**
 * Values of URLs and forms, checked before anything reads the store: a bad one is a
 * `ValidationError`, answered 400 with its message.
 */

/** A job id, recurring id, queue, type or search text: at most `LIMITS.maxParamLength` characters; `undefined` when empty or absent. */
export function optionalText(value: string | null, name: string): string | undefined {
  if (value === null || value === '') return undefined;
  if (value.length > LIMITS.maxParamLength) {
    throw new ValidationError(`${name} must be at most ${LIMITS.maxParamLength} characters; received ${value.length}`);
  }
  return value;
}

export function requiredText(value: string | null | undefined, name: string): string {
  const text = optionalText(value ?? null, name);
  if (text === undefined) throw new ValidationError(`${name} is required`);
  return text;
}

/** `state`: a state name, or `all` (`undefined`); without it, `absent`: the jobs list shows `Enqueued`. */
function stateParam(value: string | null, absent: StateName | 'all' = 'Enqueued'): StateName | undefined {
  if (value === null || value === '') return absent === 'all' ? undefined : absent;
  if (value === 'all') return undefined;
  if ((STATE_NAMES as readonly string[]).includes(value)) return value as StateName;
  throw new ValidationError(`state must be one of ${STATE_NAMES.join(', ')} or all; received ${JSON.stringify(value.slice(0, 60))}`);
}

export function jobsFilter(query: URLSearchParams): JobsFilter {
  return {
    state: stateParam(query.get('state')),
    queue: optionalText(query.get('queue'), 'queue'),
    type: optionalText(query.get('type'), 'type'),
    q: optionalText(query.get('q')?.trim() ?? null, 'q'),
    before: optionalText(query.get('before'), 'before'),
  };
}

/** `/batches/:id?state=&before=`: every state without `state`. */
export function batchFilter(query: URLSearchParams): BatchFilter {
  return { state: stateParam(query.get('state'), 'all'), before: optionalText(query.get('before'), 'before') };
}

/** A trace id in a path: 32 hex digits (any case; the store's are lowercase), not all zeros. */
export function traceIdParam(value: string | undefined): string {
  const id = (value ?? '').toLowerCase();
  if (!/^[\da-f]{32}$/.test(id) || /^0+$/.test(id)) {
    throw new ValidationError(
      `A trace id is 32 hexadecimal digits, not all zeros (4bf92f3577b34da6a3ce929d0e0e4736); received ${JSON.stringify((value ?? '').slice(0, 60))}`,
    );
  }
  return id;
}

/** `before` of the trace pages: a `SpanPage.next` as the store wrote it (opaque, checked by the store). */
function cursorParam(value: string | null): string | undefined {
  if (value === null || value === '') return undefined;
  if (value.length > TRACE_LIMITS.maxQueryLength) {
    throw new ValidationError(
      `before must be the "Older" link's value, at most ${TRACE_LIMITS.maxQueryLength} characters; received ${value.length}`,
    );
  }
  return value;
}

/** `/traces?q=&service=&before=`: the query text is parsed by the page, which shows its errors beside the form. */
export function tracesFilter(query: URLSearchParams): TracesFilter {
  const q = query.get('q')?.trim() ?? '';
  return {
    q: q === '' ? undefined : q,
    service: optionalText(query.get('service'), 'service'),
    before: cursorParam(query.get('before')),
  };
}

/** `/tasks?type=&status=&before=`. */
export function tasksFilter(query: URLSearchParams): TasksFilter {
  const status = query.get('status') ?? '';
  if (status !== '' && !(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError(
      `status must be one of ${TASK_STATUSES.join(', ')}, or left out; received ${JSON.stringify(status.slice(0, 60))}`,
    );
  }
  return {
    type: optionalText(query.get('type'), 'type'),
    status: status === '' ? undefined : status,
    before: cursorParam(query.get('before')),
  };
}

export function actionParam(value: string | null): JobAction {
  if (value === 'requeue' || value === 'delete') return value;
  throw new ValidationError(`action must be requeue or delete; received ${JSON.stringify(value)}`);
}

/** A bulk form's jobs: `id` repeated (at most `LIMITS.maxSelectedIds`), or `scope=filter` with `state`, `queue`, `type`. */
export function bulkTarget(form: URLSearchParams): BulkTarget {
  if (form.get('scope') === 'filter') {
    return {
      kind: 'filter',
      state: stateParam(requiredText(form.get('state'), 'state')),
      queue: optionalText(form.get('queue'), 'queue'),
      type: optionalText(form.get('type'), 'type'),
    };
  }
  const ids = [...new Set(form.getAll('id'))].map((id) => requiredText(id, 'id'));
  if (ids.length === 0) throw new ValidationError('Select at least one job (or use the buttons for every job of the filter)');
  if (ids.length > LIMITS.maxSelectedIds) {
    throw new ValidationError(
      `At most ${LIMITS.maxSelectedIds} jobs can be selected at once; received ${ids.length}: use the buttons for every job of the filter`,
    );
  }
  return { kind: 'ids', ids };
}

/** `confirm`: the count the confirmation page showed; `undefined` before confirmation. */
export function confirmParam(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (!/^\d{1,9}$/.test(value))
    throw new ValidationError(
      `confirm must be the number of jobs the confirmation page showed; received ${JSON.stringify(value.slice(0, 60))}`,
    );
  return Number(value);
}

/**
 * `_return`: the page a form came from (a path under the base path), where the action redirects
 * to. Anything else (another host: `//evil.example`, `/\\evil.example`, a scheme, white space or
 * characters a `Location` header cannot carry) falls back to `fallback`.
 */
export function returnPath(value: string | null, fallback: string): string {
  return value !== null && value.length <= 2_000 && /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/.test(value) ? value : fallback;
}
