// The nginx include the daemon writes beside each staple. The staple's path goes into nginx's
// configuration language, so it is written as a double-quoted string with \ and " escaped;
// a path with a control character (a newline, a tab) cannot be written safely and is refused.

/** Why `path` cannot go into an nginx include, or null. */
export function nginxPathProblem(path: string): string | null {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(path)
    ? 'its path holds a control character (such as a newline), which cannot be written safely into an nginx include'
    : null;
}

/** `path` as an nginx double-quoted string. */
export function nginxQuote(path: string): string {
  return `"${path.replace(/[\\"]/g, '\\$&')}"`;
}

export function nginxIncludeOn(stapleFile: string): string {
  return `# written by stapler: a staple is available\nssl_stapling on;\nssl_stapling_file ${nginxQuote(stapleFile)};\n`;
}

export const NGINX_INCLUDE_OFF = '# written by stapler: no acceptable staple, so none is served\nssl_stapling off;\n';
