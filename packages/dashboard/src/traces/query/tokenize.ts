import { queryError } from './query-error.ts';

/**
 * A token of a trace query: a quoted string, a comparison operator, or a word (anything else up to
 * a space, an operator or a quote: subjects, keywords, numbers, durations, kinds, trace ids). Words
 * are interpreted by the parser, which knows what each position takes.
 */
export interface Token {
  readonly type: 'string' | 'op' | 'word';
  /** The string's value (escapes applied), the operator, or the word as written. */
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly column: number;
}

const OPERATORS = ['==', '!=', '>=', '<=', '=', '>', '<'] as const;
const WORD = /[^\s=!<>"']+/y;

/** Splits `query` into tokens. @throws ValidationError for an unterminated string, a bad escape or a lone `!`. */
export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < query.length) {
    const char = query[pos]!;
    if (/\s/.test(char)) {
      pos++;
    } else if (char === '"' || char === "'") {
      const end = closingQuote(query, pos);
      tokens.push({ type: 'string', text: unquote(query.slice(pos, end + 1), pos + 1), column: pos + 1 });
      pos = end + 1;
    } else if ('=!<>'.includes(char)) {
      const op = OPERATORS.find((candidate) => query.startsWith(candidate, pos));
      if (op === undefined) throw queryError(pos + 1, `"!" must be followed by "=" (write != for "not equal")`);
      tokens.push({ type: 'op', text: op, column: pos + 1 });
      pos += op.length;
    } else {
      WORD.lastIndex = pos;
      const word = WORD.exec(query)![0];
      tokens.push({ type: 'word', text: word, column: pos + 1 });
      pos += word.length;
    }
  }
  return tokens;
}

/** The index of the quote closing the string that opens at `start` (a backslash escapes the next character). */
function closingQuote(query: string, start: number): number {
  const quote = query[start];
  for (let pos = start + 1; pos < query.length; pos++) {
    if (query[pos] === '\\') pos++;
    else if (query[pos] === quote) return pos;
  }
  throw queryError(start + 1, `unterminated string: close it with ${quote}`);
}

/**
 * The value of a quoted string: double-quoted strings take JSON's escapes (`\"`, `\\`, `\n`,
 * `\u00e9`…); in a single-quoted one, a backslash makes the next character literal (`\'`, `\\`).
 */
function unquote(literal: string, column: number): string {
  if (literal[0] === "'") return literal.slice(1, -1).replace(/\\(.)/gs, '$1');
  try {
    return JSON.parse(literal) as string;
  } catch {
    throw queryError(
      column,
      `invalid escape or control character in the string ${literal} (double-quoted strings take JSON escapes: \\" \\\\ \\n \\u00e9)`,
    );
  }
}
