// Output paths from templates: {cert} (the certificate file's path), {dir} (its folder) and
// {name} (its file name without extension), expanded in one pass, so that a folder that is
// itself named "{name}" stays as it is.

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = new Set(['cert', 'dir', 'name']);

/** Why a template is not acceptable, or null. */
export function templateProblem(template: string): string | null {
  const found = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  const unknown = found.filter((p) => !KNOWN.has(p));
  if (unknown.length > 0) return `unknown placeholder ${unknown.map((p) => `{${p}}`).join(', ')} (known: {cert}, {dir}, {name})`;
  if (found.length === 0) return 'expected a template with {cert}, {dir} or {name}, so that each certificate gets its own file';
  if (template === '{cert}') return '{cert} alone is the certificate file itself: add a suffix, e.g. "{cert}.ocsp"';
  return null;
}

/** A staple (or nginx include) path for a certificate file, from a template checked by templateProblem. */
export function expandTemplate(template: string, certFile: string): string {
  const dir = certFile.slice(0, certFile.lastIndexOf('/')) || '/';
  const base = certFile.slice(certFile.lastIndexOf('/') + 1);
  const name = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  const values: Record<string, string> = { cert: certFile, dir, name };
  return template.replace(PLACEHOLDER, (whole, key: string) => values[key] ?? whole);
}
