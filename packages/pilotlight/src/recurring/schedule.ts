import { Cron } from 'croner';
import { DEFAULTS } from '../config/defaults.ts';
import { ErrorCodes, PilotlightError, ValidationError } from '../errors.ts';
import { describe, validateStorableText } from '../validation/validate.ts';
import type { MisfirePolicy } from '../types.ts';

export const MISFIRE_POLICIES: readonly MisfirePolicy[] = ['run-once', 'run-all', 'skip'];

/**
 * A parsed cron expression in a time zone: five fields (minute first) or six (second first), or a
 * croner nickname (`@daily`); `validateCronExpression()` holds new expressions to that. A stored
 * one is read as croner reads it, so a recurring job saved with a year field keeps firing.
 */
export class CronSchedule {
  readonly #cron: Cron;
  readonly #expression: string;
  readonly #timeZone: string;

  constructor(expression: string, timeZone: string, option = 'cron') {
    if (typeof expression !== 'string' || expression.trim() === '') {
      throw new ValidationError(`${option} must be a cron expression such as '*/5 * * * *'; received ${describe(expression)}`);
    }
    validateTimeZone(timeZone);
    this.#expression = expression;
    this.#timeZone = timeZone;
    try {
      this.#cron = new Cron(expression, { timezone: timeZone });
    } catch (error) {
      throw new ValidationError(`${option} ${describe(expression)} is not a valid cron expression: ${(error as Error).message}`);
    }
    if (this.#cron.nextRun(new Date()) === null) {
      throw new ValidationError(`${option} ${describe(expression)} never occurs`);
    }
  }

  /** The first occurrence strictly after `after`. */
  next(after: Date): Date {
    const next = this.#cron.nextRun(after);
    if (!next) {
      throw new PilotlightError(
        ErrorCodes.NO_NEXT_OCCURRENCE,
        `The cron expression ${describe(this.#expression)} (time zone ${this.#timeZone}) has no occurrence after ${after.toISOString()}: give the recurring job a schedule that recurs, or remove it`,
      );
    }
    return next;
  }
}

/**
 * The rules for a new cron expression, beyond croner's: text a store can keep, and 5 or 6 fields or
 * a nickname. croner also reads a seventh field, the year; it is refused, since a schedule with
 * years ends, and a recurring job whose schedule ended is an error at every check.
 */
export function validateCronExpression(expression: string, option: string): void {
  validateStorableText(expression, option);
  const fields = expression.trim().split(/\s+/).length;
  if (!expression.trim().startsWith('@') && fields !== 5 && fields !== 6) {
    throw new ValidationError(
      `${option} ${describe(expression)} is not a valid cron expression: it has ${fields} fields; 5 (minute hour day month weekday) or 6 (second first) are accepted` +
        (fields === 7 ? ': a year field is not supported; remove the recurring job once it is no longer needed' : ''),
    );
  }
}

export function validateTimeZone(timeZone: unknown): string {
  try {
    if (typeof timeZone !== 'string') throw new RangeError();
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone;
  } catch {
    throw new ValidationError(`timeZone must be an IANA time zone such as 'Europe/Paris' or 'UTC'; received ${describe(timeZone)}`);
  }
}

export interface MisfireDecision {
  /** Occurrences to create a job for now. */
  readonly fire: Date[];
  /** Occurrences missed and dropped. */
  readonly dropped: number;
  /** The next occurrence after now. */
  readonly nextRunAt: Date;
}

/**
 * What to fire for a recurring job whose `nextRunAt` has come: the due occurrences (from
 * `nextRunAt` up to `now`) filtered by the misfire policy. An occurrence is missed when it is more
 * than `grace` ms old (the workers were down).
 */
export function decideMisfire(
  schedule: CronSchedule,
  policy: MisfirePolicy,
  nextRunAt: Date,
  now: Date,
  grace: number = DEFAULTS.recurring.misfireGrace,
  maxMisfires: number = DEFAULTS.recurring.maxMisfires,
): MisfireDecision {
  const due: Date[] = [];
  let total = 0;
  for (let occurrence = nextRunAt; occurrence <= now; occurrence = schedule.next(occurrence)) {
    total++;
    if (due.length === maxMisfires) due.shift(); // keep the most recent ones
    due.push(occurrence);
    if (total > maxMisfires * 10) break; // a long outage on a tight schedule: stop counting
  }
  const nextRunAt2 = schedule.next(now);
  const latest = due.at(-1);
  let fire: Date[];
  if (!latest) fire = [];
  else if (policy === 'run-all') fire = due;
  else if (policy === 'run-once') fire = [latest];
  else fire = now.getTime() - latest.getTime() <= grace ? [latest] : [];
  return { fire, dropped: total - fire.length, nextRunAt: nextRunAt2 };
}
