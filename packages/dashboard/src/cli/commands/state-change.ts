/**
 * What `pilotlight requeue` and `pilotlight delete` share: each id moved through the Client (so the
 * change goes through the state machine and its filters, traced like any other), and a line per id
 * saying what happened: done, already in that state (left as it is), or not found (exit code 1).
 */
import { JobNotFoundError, type Client, type StateName } from 'pilotlight';
import { stringOption, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { print, stateStyle, table } from '../format.ts';
import { printJson } from '../records.ts';

export interface StateChange {
  readonly name: string;
  readonly summary: string;
  readonly details: string;
  /** The result of a change made: `requeued`, `deleted`. */
  readonly done: string;
  readonly defaultReason: string;
  /** The states in which `change` leaves a job as it is, already where it would move it. */
  readonly already: readonly StateName[];
  /** Why a job in another state was left as it is. */
  readonly unchanged: string;
  /** Resolves to false when the job was left as it is (`Client.requeue`, `Client.delete`). */
  change(client: Client<unknown>, id: string, reason: string): Promise<boolean>;
}

/**
 * `result`: the change was made (`spec.done`); `already` in that state; `unchanged` for another
 * reason (`spec.unchanged`); `not-found`. `state`: the job's state afterwards.
 */
type Outcome = { readonly id: string; readonly result: string; readonly state: StateName | null };

export function stateChangeCommand(spec: StateChange): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: 'ID... [--reason TEXT] [--json]',
    details: spec.details,
    options: {
      reason: { type: 'string', value: 'TEXT', description: `recorded in each job's history (default: '${spec.defaultReason}')` },
    },
    json: true,
    positionals: true,
    prepare({ values, positionals }) {
      if (positionals.length === 0) throw usageError(spec.name, 'give at least one job id');
      const reason = stringOption(spec.name, values, 'reason') ?? spec.defaultReason;
      return async ({ client, store }) => {
        const outcomes: Outcome[] = [];
        for (const id of positionals) {
          try {
            const changed = await spec.change(client, id, reason);
            const state = (await store.getJob(id))?.state ?? null;
            const result = changed ? spec.done : state !== null && spec.already.includes(state) ? 'already' : 'unchanged';
            outcomes.push({ id, result, state });
          } catch (error) {
            if (!(error instanceof JobNotFoundError)) throw error;
            outcomes.push({ id, result: 'not-found', state: null });
          }
        }
        if (values.json === true) printJson({ results: outcomes });
        else
          print(
            table(
              [{ header: 'ID' }, { header: 'RESULT' }, { header: 'STATE', style: stateStyle }],
              outcomes.map((outcome) => row(spec, outcome)),
            ),
          );
        return outcomes.some((outcome) => outcome.result === 'not-found') ? 1 : 0;
      };
    },
  };
}

function row(spec: StateChange, { id, result, state }: Outcome): string[] {
  const texts: Readonly<Record<string, string>> = {
    already: 'already in that state',
    unchanged: `unchanged: ${spec.unchanged}`,
    'not-found': 'not found',
  };
  return [id, texts[result] ?? result, state ?? ''];
}
