// Checking responder and proxy URLs: pure, so that option checking loads no HTTP client.

/** What is wrong with a responder (or proxy) URL, or null: absolute http(s), no credentials. */
export function responderUrlProblem(raw: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return `"${raw}" is not a valid URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `"${raw}" must be an http:// or https:// URL`;
  if (parsed.username || parsed.password) return `"${raw}" must not carry credentials`;
  return null;
}
