// Text from a certificate or a peer (a URL, a subject, an error message), made safe to show in a
// log line, a terminal, an environment variable, an argument or JSON: control characters (C0,
// DEL, C1), and the Unicode line separators and bidirectional overrides that can disguise text,
// are written as escapes (`\x00`, `\u202e`), and the length is bounded.

/** The longest text shown by default (characters, before escaping); the rest is cut with a note. */
export const PRINTABLE_MAX_CHARS = 1024;

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character escaped, cut at `max` characters. */
export function printable(text: string, max: number = PRINTABLE_MAX_CHARS): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const safe = cut.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return cut === text ? safe : `${safe}… (${text.length - max} more characters)`;
}
