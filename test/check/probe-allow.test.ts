// The probe's allow-list against the server-side request forgery attempts it exists to stop:
// other hosts, other ports, names that resolve to loopback, IPv6 forms and odd IPv4 spellings.
// Each refusal names its rule. No probe is made here: admitTarget decides before any connection.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inCidr, parseCidr, parseIp, type Cidr } from '../../src/check/ip-ranges.ts';
import { admitTarget, ProbeRefused, type Lookup, type ProbeAllowRules } from '../../src/check/probe-allow.ts';
import { ProbeError, parseTarget } from '../../src/check/probe.ts';
import { systemLookup } from '../../src/check/probe-run.ts';

const cidrs = (...texts: string[]): Cidr[] => texts.map((t) => parseCidr(t) as Cidr);
const rules = (over: Partial<ProbeAllowRules> = {}): ProbeAllowRules => ({
  hosts: ['www.example.com', '*.example.net'],
  cidrs: cidrs('203.0.113.0/24', '2001:db8::/32'),
  ports: [443],
  ...over,
});
/** A resolver that knows only these names. */
const names =
  (table: Record<string, string[]>): Lookup =>
  async (name) => {
    const found = table[name];
    if (!found) throw new Error(`ENOTFOUND ${name}`);
    return found;
  };
const dns = names({ 'www.example.com': ['203.0.113.7'], 'a.example.net': ['203.0.113.8', '2001:db8::8'], 'evil.example.net': ['203.0.113.9', '127.0.0.1'] });

async function refusedBy(target: string, r: ProbeAllowRules = rules(), lookup: Lookup = dns): Promise<string> {
  try {
    await admitTarget(parseTarget(target), r, lookup);
  } catch (err) {
    if (err instanceof ProbeRefused) return `${err.rule}: ${err.message}`;
    throw err;
  }
  assert.fail(`${target} was admitted`);
}

describe('IP addresses: canonical spellings only', () => {
  it('reads dotted decimal and IPv6, and an IPv4-mapped IPv6 address as its IPv4 address', () => {
    assert.equal(parseIp('203.0.113.7')?.family, 4);
    assert.equal(parseIp('2001:db8::1')?.family, 6);
    assert.deepEqual(parseIp('::ffff:127.0.0.1'), { family: 4, bytes: Uint8Array.from([127, 0, 0, 1]), text: '127.0.0.1' });
    assert.equal(parseIp('::ffff:7f00:1')?.text, '127.0.0.1');
    for (const odd of ['127.1', '0x7f.0.0.1', '2130706433', '0177.0.0.1', '127.0.0.01', '1.2.3.4.5', '::1::', 'fe80::1%lo', '1:2:3:4:5:6:7:8:9', ''])
      assert.equal(parseIp(odd), null, odd);
  });
  it('matches ranges by prefix, family by family', () => {
    const net = parseCidr('2001:db8::/32') as Cidr;
    assert.ok(inCidr(parseIp('2001:db8:ffff::1')!, net));
    assert.ok(!inCidr(parseIp('2001:db9::1')!, net));
    assert.ok(!inCidr(parseIp('203.0.113.7')!, net));
    assert.ok(inCidr(parseIp('::ffff:10.1.2.3')!, parseCidr('::ffff:10.0.0.0/104') as Cidr), 'a mapped range is its IPv4 range');
    assert.match(parseCidr('10.0.0.0/33') as string, /prefix/);
    assert.match(parseCidr('10.0.0.0/8/1') as string, /ADDRESS\/PREFIX/);
    assert.match(parseCidr('10.1/8') as string, /canonical/);
  });
});

describe('the allow-list', () => {
  it('admits an allowed name at its resolved address, and an allowed literal address', async () => {
    assert.deepEqual(await admitTarget(parseTarget('www.example.com:443'), rules(), dns), { address: '203.0.113.7', name: 'www.example.com' });
    assert.deepEqual(await admitTarget(parseTarget('a.example.net'), rules(), dns), { address: '203.0.113.8', name: 'a.example.net' });
    assert.deepEqual(await admitTarget(parseTarget('[2001:db8::5]:443'), rules(), dns), { address: '2001:db8::5', name: null });
  });

  it('refuses other ports, other hosts and addresses outside the ranges, naming the rule', async () => {
    assert.match(await refusedBy('www.example.com:22'), /^ports: port 22 is not in probe\.allow\.ports \(443\)/);
    assert.match(await refusedBy('other.example.com:443'), /^hosts: host "other\.example\.com" matches no entry/);
    assert.match(await refusedBy('example.net:443'), /^hosts:/, '*.example.net does not match example.net itself');
    assert.match(await refusedBy('198.51.100.1:443'), /^cidrs: address 198\.51\.100\.1 is in no range/);
    assert.match(await refusedBy('[2001:db9::1]:443'), /^cidrs:/);
  });

  it('refuses a name that resolves to loopback, also when only one of its addresses does', async () => {
    assert.match(await refusedBy('evil.example.net:443'), /^cidrs: host "evil\.example\.net" resolves to 127\.0\.0\.1/);
    // The real resolver: localhost is 127.0.0.1 (or ::1) from /etc/hosts.
    const wide = rules({ hosts: ['localhost'], cidrs: cidrs('0.0.0.0/0', '::/0') });
    assert.match(
      await refusedBy('localhost:443', wide, systemLookup),
      /^special-address: host "localhost" resolves to (127\.0\.0\.1|::1) is (loopback|unspecified)/,
    );
  });

  it('refuses IPv4 in other spellings before any lookup, and IPv6 forms of loopback', async () => {
    const wide = rules({ hosts: ['*'], cidrs: cidrs('0.0.0.0/0', '::/0') });
    const never: Lookup = () => assert.fail('no lookup for a numeric host');
    for (const odd of ['127.1', '0x7f.0.0.1', '0x7f000001', '2130706433', '0177.0.0.1', '127.0.0.01', '017700000001'])
      assert.match(await refusedBy(`${odd}:443`, wide, never), /^ip-spelling: .*non-canonical/, odd);
    for (const v6 of ['[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:7f00:1]', '[::127.0.0.1]', '[::]', '[64:ff9b::7f00:1]', '[fe80::1]'])
      assert.match(await refusedBy(`${v6}:443`, wide, never), /^special-address:/, v6);
    assert.match(await refusedBy('[fe80::1%25lo]:443', wide, never), /^ip-spelling:/);
    assert.match(await refusedBy('[fe80::1%lo]:443', wide, never), /^ip-spelling:/);
  });

  it('keeps special ranges (loopback, private, link-local, metadata) closed under a wide range, open under a narrow one', async () => {
    const wide = rules({ hosts: ['*'], cidrs: cidrs('0.0.0.0/0') });
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '224.0.0.1', '255.255.255.255'])
      assert.match(await refusedBy(`${a}:443`, wide), /^special-address:/, a);
    assert.deepEqual(await admitTarget(parseTarget('198.51.100.1:443'), wide, dns), { address: '198.51.100.1', name: null });
    const narrow = rules({ cidrs: cidrs('0.0.0.0/0', '127.0.0.1/32', '10.0.0.0/8') });
    assert.equal((await admitTarget(parseTarget('127.0.0.1:443'), narrow, dns)).address, '127.0.0.1');
    assert.equal((await admitTarget(parseTarget('10.9.9.9:443'), narrow, dns)).address, '10.9.9.9');
    assert.match(await refusedBy('127.0.0.2:443', narrow), /^special-address:/);
  });

  it('a name that does not resolve is a failed probe (probe_success 0), not a refusal', async () => {
    await assert.rejects(admitTarget(parseTarget('nowhere.example.net:443'), rules(), dns), (err: unknown) => err instanceof ProbeError && err.kind === 'dns');
  });
});
