// Expanding certificate globs: *, ?, [...] within a path segment, and ** across segments.
// The small part of a glob that certificate paths need. Not Node 22's fs.glob, even where it
// exists: it reports a directory it fails to read as no match (test/daemon/glob.test.ts), and
// here that would make the daemon forget the certificates and delete their staple files.
// An error is not an absence: only ENOENT and ENOTDIR say that a path is not there. Any other
// failure (EMFILE, ENFILE, EIO, EACCES, a timeout) throws GlobUnknownError, so that the caller
// keeps the files it knew rather than forgetting them (and deleting their staple files).

import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const MAGIC = /[*?[]/;
/** Answers that mean "not there"; every other error means "unknown". */
const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

export class GlobUnknownError extends Error {
  override readonly name = 'GlobUnknownError';
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(`cannot read ${path}: ${message}`);
  }
}

function unknownOrAbsent<T>(path: string, absent: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code && ABSENT.has(err.code)) return absent;
    throw new GlobUnknownError(path, err.code ?? 'UNKNOWN', err.message);
  };
}

const isFile = (path: string): Promise<boolean> => stat(path).then((s) => s.isFile(), unknownOrAbsent(path, false));
const entries = (dir: string): Promise<Dirent[]> => readdir(dir, { withFileTypes: true }).catch(unknownOrAbsent<Dirent[]>(dir, []));
const MAX_MATCHES = 100_000;

function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Absolute paths of the regular files that `pattern` (an absolute path) matches, sorted. Throws GlobUnknownError when an error leaves that unknown. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!MAGIC.test(pattern)) return (await isFile(pattern)) ? [pattern] : [];
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  const out = new Set<string>();
  const walk = async (dir: string, i: number): Promise<void> => {
    if (out.size >= MAX_MATCHES) return;
    if (i === segments.length) {
      if (await isFile(dir)) out.add(dir);
      return;
    }
    const seg = segments[i]!;
    if (seg === '**') {
      await walk(dir, i + 1);
      for (const entry of await entries(dir)) {
        if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(join(dir, entry.name), i);
      }
      return;
    }
    if (!MAGIC.test(seg)) return walk(join(dir, seg), i + 1);
    const re = segmentRegExp(seg);
    const last = i + 1 === segments.length;
    for (const entry of await entries(dir)) {
      if (!re.test(entry.name) || (entry.name.startsWith('.') && !seg.startsWith('.'))) continue;
      // A regular file by readdir's own type needs no stat (one per file per rescan, one after
      // the other); a symlink, or a file system that gives no type, is followed by one.
      if (last && entry.isFile()) {
        if (out.size < MAX_MATCHES) out.add(join(dir, entry.name));
      } else await walk(join(dir, entry.name), i + 1);
    }
  };
  await walk(segments[0] === '' ? '/' : segments[0]!, 1);
  return [...out].sort();
}
