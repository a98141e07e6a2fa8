import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig, expandTemplate, parseConfig } from '../../src/daemon/config.ts';
import { InputError } from '../../src/ocsp/errors.ts';

const parse = (yaml: string): ReturnType<typeof parseConfig> => parseConfig(yaml, 'stapler.yaml', '/etc/stapler');

function refuses(yaml: string, item: RegExp, reason: RegExp): void {
  assert.throws(
    () => parse(yaml),
    (err: unknown) => err instanceof InputError && item.test(err.item) && reason.test(err.reason),
    yaml,
  );
}

describe('daemon configuration', () => {
  it('reads every setting, with defaults and relative paths resolved', () => {
    const c = parse(`
certificates:
  - /etc/haproxy/certs/*.pem
  - certs/other.pem
stapleFile: "{dir}/ocsp/{name}.der"
nginxInclude: "{cert}.stapling.conf"
reload:
  command: nginx -s reload
haproxy:
  socket: /run/haproxy/admin.sock
stateFile: state.json
timeoutMs: 3000
responderUrls: [http://ocsp.example/]
responderUrlsByIssuer:
  "CN=Example CA": [http://ocsp2.example/]
refresh:
  refreshFraction: 0.4
  backoffMaxMs: 1800000
hash: sha256
concurrency: 4
`);
    assert.deepEqual(c.certificates, ['/etc/haproxy/certs/*.pem', '/etc/stapler/certs/other.pem']);
    assert.equal(c.stapleFile, '{dir}/ocsp/{name}.der');
    assert.deepEqual(c.reload, { command: 'nginx -s reload', debounceMs: 2000 });
    assert.deepEqual(c.haproxy, { socket: '/run/haproxy/admin.sock', timeoutMs: 5000 });
    assert.equal(c.stateFile, '/etc/stapler/state.json');
    assert.equal(c.storeDir, '/etc/stapler/staples', 'beside the state file');
    assert.deepEqual(c.engine, {
      timeoutMs: 3000,
      responderUrls: ['http://ocsp.example/'],
      responderUrlsByIssuer: { 'CN=Example CA': ['http://ocsp2.example/'] },
      refresh: { refreshFraction: 0.4, backoffMaxMs: 1_800_000 },
      hash: 'sha256',
      concurrency: 4,
    });
  });
  it('takes a single glob as a string', () => {
    assert.deepEqual(parse('certificates: /etc/ssl/site.pem').certificates, ['/etc/ssl/site.pem']);
  });
  it('refuses an unknown key, naming it and listing the known ones', () => {
    refuses('certificates: [a.pem]\ncertficates: [b.pem]\n', /"certficates"/, /is not a known key \(known here: certificates, /);
    refuses('certificates: [a.pem]\nrefresh:\n  fraction: 0.5\n', /"refresh.fraction"/, /not a known key/);
  });
  it('refuses a wrong type, naming the key, the value and what is expected', () => {
    refuses('certificates: [a.pem]\ntimeoutMs: soon\n', /"timeoutMs"/, /"soon" is not valid: expected a number from 1 to/);
    refuses('certificates: [a.pem]\nconcurrency: 2.5\n', /"concurrency"/, /2\.5 is not valid: expected a whole number/);
    refuses('certificates: [a.pem]\nallowSha1Signatures: "yes"\n', /"allowSha1Signatures"/, /expected true or false/);
    refuses('certificates: [a.pem]\nlogLevel: loud\n', /"logLevel"/, /one of fatal, error, warn, info, debug, trace, silent/);
    refuses('certificates: [a.pem]\nreload: nginx -s reload\n', /"reload"/, /expected a mapping/);
  });
  it('refuses a bad URL, naming the key', () => {
    refuses('certificates: [a.pem]\nresponderUrls: [ftp://ocsp.example/]\n', /"responderUrls"/, /http:\/\/ or https:\/\//);
    refuses('certificates: [a.pem]\nproxy: "not a url"\n', /"proxy"/, /not a valid URL/);
  });
  it('refuses what is missing or inconsistent', () => {
    refuses('stapleFile: "{cert}.ocsp"\n', /"certificates"/, /is required/);
    refuses('certificates: [a.pem]\nstapleFile: /tmp/one-file.ocsp\n', /"stapleFile"/, /template with \{cert\}/);
    refuses('certificates: [a.pem]\nhaproxy:\n  timeoutMs: 1000\n', /"haproxy.socket"/, /is required/);
    refuses('certificates: [a.pem]\nrefresh:\n  backoffInitialMs: 60000\n  backoffMaxMs: 1000\n', /"refresh.backoffMaxMs"/, /less than/);
  });
  it('reports YAML syntax errors with the line', () => {
    refuses('certificates: [a.pem\ntimeoutMs: 5\n', /stapler\.yaml/, /line \d+, column \d+/);
    refuses('certificates: [a.pem]\ncertificates: [b.pem]\n', /stapler\.yaml/, /unique/i);
    refuses('- just\n- a list\n', /stapler\.yaml/, /mapping of settings/);
  });
  it('expands staple file templates', () => {
    assert.equal(expandTemplate('{cert}.ocsp', '/etc/haproxy/certs/site.pem'), '/etc/haproxy/certs/site.pem.ocsp');
    assert.equal(expandTemplate('{dir}/ocsp/{name}.der', '/etc/ssl/site.crt'), '/etc/ssl/ocsp/site.der');
  });
  it('expands templates in one pass: a folder named {name} stays as it is', () => {
    assert.equal(expandTemplate('{dir}/{name}.ocsp', '/srv/{name}/site.pem'), '/srv/{name}/site.ocsp');
    assert.equal(expandTemplate('{cert}.ocsp', '/srv/{dir}/a.pem'), '/srv/{dir}/a.pem.ocsp');
  });
  it('refuses an unknown placeholder, and a template that is the certificate file itself', () => {
    refuses('certificates: [a.pem]\nstapleFile: "{certificate}.ocsp"\n', /"stapleFile"/, /unknown placeholder \{certificate\}/);
    refuses('certificates: [a.pem]\nnginxInclude: "{dir}/{base}.conf"\n', /"nginxInclude"/, /unknown placeholder \{base\}/);
    refuses('certificates: [a.pem]\nstapleFile: "{cert}"\n', /"stapleFile"/, /the certificate file itself/);
    refuses('certificates: [a.pem]\nstapleFile: "{cert}.x"\nnginxInclude: "{cert}.x"\n', /"nginxInclude"/, /same template as stapleFile/);
  });
  it('reports every problem in one run', () => {
    assert.throws(
      () => parse('timeoutMs: fast\nconcurrency: 0\nstapleFile: "{nope}"\nbogus: 1\nrefresh:\n  refreshFraction: 1\n'),
      (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.match(err.reason, /^6 problems:/);
        for (const key of ['timeoutMs', 'concurrency', 'stapleFile', 'bogus', 'refresh.refreshFraction', 'certificates'])
          assert.match(err.reason, new RegExp(`config key "${key.replace('.', '\\.')}"`));
        return true;
      },
    );
  });
  it('refuses hostile YAML with a named reason: an alias bomb, __proto__ keys, .inf and .nan', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
      'certificates: [a.pem]',
    ].join('\n');
    refuses(bomb, /stapler\.yaml/, /aliases .* expand too much/);
    refuses('certificates: [a.pem]\n__proto__: {timeoutMs: 1}\n', /"__proto__"/, /is not a known key/);
    refuses('certificates: [a.pem]\nrefresh:\n  __proto__: 1\n', /"refresh.__proto__"/, /is not a known key/);
    refuses('certificates: [a.pem]\nconstructor: 1\n', /"constructor"/, /is not a known key/);
    refuses('certificates: [a.pem]\ntimeoutMs: .inf\n', /"timeoutMs"/, /^Infinity is not valid: expected a number from 1 to/);
    refuses('certificates: [a.pem]\nskewMs: .nan\n', /"skewMs"/, /^NaN is not valid/);
  });
  it('refuses an https: proxy (the fetcher speaks plain HTTP to proxies)', () => {
    refuses('certificates: [a.pem]\nproxy: https://proxy.example:3128\n', /"proxy"/, /plain-HTTP proxy URL/);
    assert.equal(parse('certificates: [a.pem]\nproxy: http://proxy.example:3128\n').engine.proxy, 'http://proxy.example:3128');
  });
  it('takes flags-style objects too, with the same checks', () => {
    assert.throws(
      () => buildConfig({ certificates: ['a.pem'], maxResponseBytes: 2 * 1024 * 1024 }, '/'),
      /config key "maxResponseBytes": 2097152 is not valid: expected a whole number from 1024 to 1048576/,
    );
  });
});
