// The fenced examples of README.md and docs/**/*.md, found by the marker on the line before each
// (`<!-- example: TAG [TAG…] -->`), so that tests run the examples where users read them.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;

export interface DocExample {
  /** The page, relative to the project root (`docs/daemon.md`). */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's language (`sh`, `yaml`, … or `` for none). */
  readonly lang: string;
  /** The marker's tags (empty when the block has no marker). */
  readonly tags: readonly string[];
  readonly code: string;
}

/** README.md, then every page under docs/, in a stable order. */
export function docPages(): string[] {
  const pages: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) pages.push(relative(ROOT, join(dir, e.name)));
    }
  };
  walk(join(ROOT, 'docs'));
  return ['README.md', ...pages];
}

const MARKER = /^<!-- example: ([a-z0-9 -]+?) -->$/;

/** Every fenced block of one page, with the tags of its marker. */
export function pageExamples(file: string): DocExample[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    let end = i + 1;
    while (end < lines.length && lines[end] !== fence) end++;
    assert.ok(end < lines.length, `${file}:${i + 1}: a fenced block that is never closed`);
    const marker = MARKER.exec(lines[i - 1] ?? '');
    out.push({ file, line: i + 1, lang: open[2]!, tags: marker ? marker[1]!.split(' ') : [], code: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return out;
}

export function allExamples(): DocExample[] {
  return docPages().flatMap(pageExamples);
}

/** The examples tagged `tag`, from every page: at least one, or the test fails. */
export function examples(tag: string): DocExample[] {
  const found = allExamples().filter((e) => e.tags.includes(tag));
  assert.ok(found.length > 0, `no example is tagged "${tag}" in README.md or docs/`);
  return found;
}

/** The one example tagged `tag` on `file`. */
export function example(tag: string, file: string): DocExample {
  const found = examples(tag).filter((e) => e.file === file);
  assert.equal(found.length, 1, `${file} has ${found.length} examples tagged "${tag}"`);
  return found[0]!;
}

/** Where an example is, for assertion messages. */
export const where = (e: DocExample): string => `${e.file}:${e.line}`;
