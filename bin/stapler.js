#!/usr/bin/env node
// The installed `stapler` command runs the compiled CLI (built by `npm run build`, which
// `npm pack` runs through the prepack script).
import * as nodeModule from 'node:module';

// Node 22.1+ caches compiled code on disk between runs (a faster start for a command a monitor
// runs every minute); Node 20 has no such cache and starts as before.
nodeModule.enableCompileCache?.();
const entry = new URL('../dist/cli/main.js', import.meta.url);
try {
  await import(entry.href);
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('stapler: the CLI is not built yet: run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
}
