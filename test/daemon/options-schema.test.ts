// The library's validateOptions and the daemon's configuration check the engine's options
// against one table: for every key, both accept and refuse the same values, with the same words.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { OPTION_SCHEMA, type OptionSpec, validateOptions } from '../../src/engine/options.ts';
import { InputError } from '../../src/ocsp/errors.ts';

/** Values at and around each bound, and values of the wrong type. */
function probes(spec: OptionSpec): unknown[] {
  switch (spec.type) {
    case 'number':
    case 'integer':
      return [
        spec.min - 1,
        spec.min,
        spec.min + 0.5,
        (spec.min + spec.max) / 2,
        spec.max - 0.5,
        spec.max,
        spec.max + 1,
        Math.round((spec.min + spec.max) / 2),
        Number.NaN,
        Infinity,
        '5',
        true,
      ];
    case 'boolean':
      return [true, false, 'yes', 1];
    case 'enum':
      return [...spec.values, 'md5', 1];
    case 'urls':
      return [['http://ocsp.example/'], ['https://ocsp.example/'], ['ftp://x/'], ['http://user:pw@x/'], 'http://x/', [1]];
    case 'urlsByKey':
      return [{ 'CN=CA': ['http://ocsp.example/'] }, { 'CN=CA': ['nope'] }, ['http://x/'], 5];
    case 'proxy':
      return ['http://proxy:3128', 'https://proxy:3128', 'socks5://proxy:1080', 'not a url', 3128];
  }
}

function nest(key: string, value: unknown): Record<string, unknown> {
  const [head, sub] = key.split('.');
  return sub ? { [head!]: { [sub]: value } } : { [head!]: value };
}

function libraryVerdict(key: string, value: unknown): string | null {
  try {
    validateOptions(nest(key, value));
    return null;
  } catch (err) {
    assert.ok(err instanceof InputError);
    return `${err.item}: ${err.reason}`;
  }
}

function daemonVerdict(key: string, value: unknown): string | null {
  try {
    buildConfig({ certificates: ['a.pem'], ...nest(key, value) }, '/');
    return null;
  } catch (err) {
    assert.ok(err instanceof InputError);
    // The daemon names the key as a config key; the rest is the library's words.
    const m = /^config key "(.*)"$/.exec(err.item);
    assert.ok(m, err.message);
    return `${m[1]}: ${err.reason}`;
  }
}

describe('one options schema for the library and the daemon', () => {
  for (const spec of OPTION_SCHEMA) {
    it(`${spec.key}: same values accepted, same messages`, () => {
      let accepted = 0;
      let refused = 0;
      for (const value of probes(spec)) {
        // The daemon also takes one URL where a list is expected (YAML convenience).
        if (spec.type === 'urls' && typeof value === 'string') continue;
        const lib = libraryVerdict(spec.key, value);
        assert.equal(daemonVerdict(spec.key, value), lib, `${spec.key} = ${String(value)}`);
        if (lib === null) accepted++;
        else {
          refused++;
          assert.ok(lib.includes(spec.key), `the message names the option: ${lib}`);
        }
      }
      assert.ok(accepted > 0 && refused > 0, 'the probes cover both sides of the bounds');
    });
  }
  it('maxResponseBytes is at most 1 MiB, and the bounds say what they are', () => {
    assert.equal(libraryVerdict('maxResponseBytes', 1024 * 1024), null);
    assert.match(libraryVerdict('maxResponseBytes', 1024 * 1024 + 1)!, /expected a whole number from 1024 to 1048576/);
    assert.match(libraryVerdict('refresh.refreshFraction', 0)!, /greater than 0 and less than 1/);
    assert.match(daemonVerdict('refresh.refreshFraction', 1)!, /greater than 0 and less than 1/);
  });
  it('collects every problem, and throws one combined InputError', () => {
    assert.throws(
      () => validateOptions({ timeoutMs: 0, concurrency: 0 }),
      (err: unknown) => err instanceof InputError && /^2 problems:\n {2}- timeoutMs: .*\n {2}- concurrency: /.test(err.reason),
    );
  });
});
