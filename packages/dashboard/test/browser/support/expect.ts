import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';

/** How long the page gets to show something (live updates poll every 2 s at most). */
const TIMEOUT = 5_000;

/**
 * Waits until the element shows `expected` (a substring, or a pattern), then returns its text;
 * fails with what it showed instead.
 */
export async function expectText(locator: Locator, expected: string | RegExp, timeout = TIMEOUT): Promise<string> {
  try {
    await locator.filter({ hasText: expected }).waitFor({ timeout });
  } catch (error) {
    const shown = await locator.allInnerTexts();
    assert.fail(`${String(locator)} should show ${String(expected)}; it shows ${JSON.stringify(shown)} (${(error as Error).message})`);
  }
  return locator.innerText();
}

/** Waits until the element shows the number `count` (as a whole number: 5 is not 55 nor 1,5). */
export function expectNumber(locator: Locator, count: number, timeout = TIMEOUT): Promise<string> {
  return expectText(locator, wholeNumber(count), timeout);
}

/** A pattern for `n` as a whole number in a text, with or without thousands separators. */
export function wholeNumber(n: number): RegExp {
  const digits = n.toLocaleString('en-US').replace(/,/g, '[,\u202f\u00a0]?');
  return new RegExp(`(?<![\\d.,])${digits}(?![\\d.,]\\d|\\d)`);
}

/** Asserts that the page shows none of these elements (checked at once: pages are rendered by the server). */
export async function expectAbsent(locator: Locator, what: string): Promise<void> {
  assert.equal(await locator.count(), 0, `${what} should not be on the page`);
}

/** The text of `row`'s cell in the column its table's header names `header`; `undefined` without such a column. */
export function cellUnder(row: Locator, header: string): Promise<string | undefined> {
  return row.evaluate((tr, header) => {
    const headers = [...(tr.closest('table')?.querySelectorAll('thead th') ?? [])].map((th) => th.textContent?.trim());
    const column = headers.indexOf(header);
    return column === -1 ? undefined : tr.children[column]?.textContent?.trim();
  }, header);
}
