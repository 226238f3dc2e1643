/**
 * The one way the dashboard builds HTML: the `html` tagged template escapes every interpolated
 * value, in text and in (double-quoted) attributes alike, unless the value is itself HTML built by
 * `html`. Nothing else can make a `SafeHtml` (the class is not exported), so a job's arguments,
 * exception, type or queue, a recurring id or a worker's name can never become markup.
 */

/** A piece of HTML built by `html`: interpolated into another template as it is. */
class SafeHtml {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

export type { SafeHtml };

/** What a template may interpolate: text and numbers (escaped), HTML, nothing (`null`, `undefined`, `false`), or lists of these. */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return String(value).replace(/[&<>"'`]/g, (char) => ESCAPES[char]!);
}

/** `html\`<td title="${text}">${text}</td>\``: every value escaped unless it is `SafeHtml`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}
