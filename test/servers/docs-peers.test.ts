// The Apache, nginx (responder mode) and Java configurations of docs/servers/ are the ones the
// real-peer tests run: the stapling lines of each block equal what test/support builds, with the
// responder URL of the daemon configuration on each page.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { staplingDirectives } from '../support/apache.ts';
import { jdkStaplingProperties } from '../support/java-server.ts';
import { nginxResponderDirectives } from '../support/nginx.ts';
import { example, examples } from '../support/doc-examples.ts';

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** The daemon's responder URL, from the `listen:` line of the daemon configurations on `file` (and daemon.md). */
function responderUrl(file: string): string {
  const listens = new Set(
    examples('daemon-config')
      .filter((e) => e.file === file || e.file === 'docs/daemon.md')
      .map((e) => /^listen: (\S+)/m.exec(e.code)?.[1])
      .filter((l) => l !== undefined),
  );
  assert.equal(listens.size, 1, `${file} and docs/daemon.md agree on one listen address: ${[...listens].join(', ')}`);
  return `http://${[...listens][0]}/`;
}

/** The responder URL of the page's own daemon configuration (Tomcat's and Jetty's pages move it off 8080). */
function pageResponderUrl(file: string): string {
  const listens = examples('daemon-config')
    .filter((e) => e.file === file)
    .map((e) => /^listen: (\S+)/m.exec(e.code)?.[1]);
  assert.equal(listens.length, 1, `${file} has one daemon configuration`);
  assert.ok(listens[0], `${file}'s daemon configuration has a listen line`);
  return `http://${listens[0]}/`;
}

/** The -D options of a shell block (one per line or all on one line). */
const systemProperties = (block: string): string[] => [...block.matchAll(/-D(jdk\.tls\.[\w.]+=[^\s"]+)/g)].map((m) => `-D${m[1]!}`);

describe('the peer configurations in docs/servers/', () => {
  it("Apache's stapling directives are the ones the tests run", () => {
    const block = example('peers-apache', 'docs/servers/apache.md').code;
    assert.match(block, /SSLStaplingForceURL/);
    const directives = lines(block).filter((l) => /^SSL(UseStapling|Stapling(?!Cache))/.test(l));
    assert.deepEqual(directives, lines(staplingDirectives({ responderUrl: responderUrl('docs/servers/apache.md') })));
  });

  it("nginx's responder-mode directives are the ones the tests run", () => {
    const block = example('peers-nginx-responder', 'docs/servers/nginx.md').code;
    assert.match(block, /ssl_stapling_responder/);
    const directives = lines(block).filter((l) => /^ssl_(stapling|trusted_certificate)/.test(l));
    const trusted = /ssl_trusted_certificate (\S+);/.exec(block)?.[1] ?? '';
    assert.deepEqual(directives, lines(nginxResponderDirectives(responderUrl('docs/servers/nginx.md'), trusted)));
  });

  it("Java's system properties are the ones the tests run", () => {
    const block = example('peers-java', 'docs/servers/java.md').code;
    assert.match(block, /jdk\.tls\.stapling/);
    const properties = lines(block)
      .map((l) => l.replace(/\s*\\$/, ''))
      .filter((l) => l.startsWith('-D'));
    assert.deepEqual(properties, jdkStaplingProperties(responderUrl('docs/servers/java.md')));
  });

  for (const [file, tag] of [
    ['docs/servers/tomcat.md', 'tomcat-java-opts'],
    ['docs/servers/jetty.md', 'jetty-java-options'],
  ] as const) {
    it(`${file}'s system properties are Java's, sent to the page's daemon`, () => {
      // The tests run these blocks with their own URL and cache lifetime: the page's URL is checked here.
      assert.deepEqual(systemProperties(example(tag, file).code), jdkStaplingProperties(pageResponderUrl(file)));
    });
  }
});
