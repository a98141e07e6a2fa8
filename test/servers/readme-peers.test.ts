// The README's Apache, nginx (responder mode) and Java configurations are the ones the real-peer
// tests run: the stapling lines of each README block equal what test/support builds.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { staplingDirectives } from '../support/apache.ts';
import { jdkStaplingProperties } from '../support/java-server.ts';
import { nginxResponderDirectives } from '../support/nginx.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = (lang: string): string[] => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** The daemon's responder URL, from the README's `listen:` line. */
function responderUrl(): string {
  const listen = /^listen: (\S+)/m.exec(blocks('yaml').join('\n'))?.[1];
  assert.ok(listen, 'a YAML block with listen:');
  return `http://${listen}/`;
}

describe('the README peer configurations', () => {
  it("Apache's stapling directives are the ones the tests run", () => {
    const block = blocks('apache').find((b) => b.includes('SSLStaplingForceURL'));
    assert.ok(block, 'an apache block with SSLStaplingForceURL');
    const directives = lines(block).filter((l) => /^SSL(UseStapling|Stapling(?!Cache))/.test(l));
    assert.deepEqual(directives, lines(staplingDirectives({ responderUrl: responderUrl() })));
  });

  it("nginx's responder-mode directives are the ones the tests run", () => {
    const block = blocks('nginx').find((b) => b.includes('ssl_stapling_responder'));
    assert.ok(block, 'an nginx block with ssl_stapling_responder');
    const directives = lines(block).filter((l) => /^ssl_(stapling|trusted_certificate)/.test(l));
    const trusted = /ssl_trusted_certificate (\S+);/.exec(block)?.[1] ?? '';
    assert.deepEqual(directives, lines(nginxResponderDirectives(responderUrl(), trusted)));
  });

  it("Java's system properties are the ones the tests run", () => {
    const block = blocks('sh').find((b) => b.includes('jdk.tls.stapling'));
    assert.ok(block, 'a sh block with the jdk.tls properties');
    const properties = lines(block)
      .map((l) => l.replace(/\s*\\$/, ''))
      .filter((l) => l.startsWith('-D'));
    assert.deepEqual(properties, jdkStaplingProperties(responderUrl()));
  });
});
