import { ValidationError } from 'pilotlight';

/** The `ValidationError` of a trace query that does not parse, saying where (1-based column) and what to write instead. */
export function queryError(column: number, problem: string): ValidationError {
  return new ValidationError(`Invalid trace query at column ${column}: ${problem}`);
}
