#!/usr/bin/env node
// The installed `stapler` command runs the compiled CLI (built by `npm run build`, which
// `npm ci` runs through the prepare script).
const entry = new URL('../dist/cli/main.js', import.meta.url);
try {
  await import(entry.href);
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('stapler: the CLI is not built yet: run `npm run build` (or `npm ci`) first\n');
    process.exit(2);
  }
  throw err;
}
