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

/** The index of the column `row`'s table's header names `header`; -1 without such a column. */
function columnOf(row: Locator, header: string): Promise<number> {
  return row.evaluate(
    (tr, header) => [...(tr.closest('table')?.querySelectorAll('thead th') ?? [])].findIndex((th) => th.textContent?.trim() === header),
    header,
  );
}

/** The text of `row`'s cell in the column its table's header names `header`; `undefined` without such a column. */
export async function cellUnder(row: Locator, header: string): Promise<string | undefined> {
  const column = await columnOf(row, header);
  return column === -1 ? undefined : ((await row.locator(':scope > *').nth(column).textContent()) ?? '').trim();
}

/** `row`'s cell in the column its table's header names `header` (which must exist). */
export async function cellLocator(row: Locator, header: string): Promise<Locator> {
  const column = await columnOf(row, header);
  assert.notEqual(column, -1, `no column ${header}`);
  return row.locator(':scope > *').nth(column);
}

/** On how many lines the browser laid out the text of `element` (the distinct tops of its text's boxes). */
export function linesOf(element: Locator): Promise<number> {
  return element.evaluate((node) => {
    const tops = new Set<number>();
    const walker = node.ownerDocument.createTreeWalker(node, 4); // NodeFilter.SHOW_TEXT (the tests' types have no DOM)
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      const range = node.ownerDocument.createRange();
      range.selectNodeContents(text);
      for (const rect of range.getClientRects()) if (rect.width > 0) tops.add(Math.round(rect.top));
    }
    return tops.size;
  });
}
