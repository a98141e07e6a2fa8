// PEM reading at its edges (found by mutation testing, issue 20): what a label may hold, where a
// block may end, the messages for files without a certificate, and a certificate that is its own
// issuer.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Certificate } from '../../src/ocsp/certificate.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { findIssuer, pemBlocks, readCertificates } from '../../src/ocsp/pem.ts';
import { issue, type Issued } from '../support/pki.ts';

const blocks = (text: string): string[][] => pemBlocks(text).map((b) => [b.type, b.body]);

describe('pemBlocks', () => {
  it('takes labels of capital letters, digits and spaces, Z, 0 and 9 included', () => {
    assert.deepEqual(blocks('-----BEGIN Z09 A-----x-----END Z09 A-----'), [['Z09 A', 'x']]);
  });
  it('takes no label with other characters, an empty label, or one over 64 characters', () => {
    assert.deepEqual(blocks('-----BEGIN certificate-----x-----END certificate-----'), []);
    assert.deepEqual(blocks('-----BEGIN A:B-----x-----END A:B-----'), []);
    assert.deepEqual(blocks('-----BEGIN -----x-----END -----'), []);
    const long = 'A'.repeat(65);
    assert.deepEqual(blocks(`-----BEGIN ${long}-----x-----END ${long}-----`), []);
    const longest = 'A'.repeat(64);
    assert.deepEqual(blocks(`-----BEGIN ${longest}-----x-----END ${longest}-----`), [[longest, 'x']]);
  });
  it('takes no BEGIN line whose label is not followed by five dashes', () => {
    assert.deepEqual(blocks('-----BEGIN CERTIFICATE\nAAAA\n-----END CERTIFICATE-----'), []);
  });
  it('reads an empty body (END right after BEGIN)', () => {
    assert.deepEqual(blocks('-----BEGIN A----------END A-----'), [['A', '']]);
  });
  it('does not reuse the dashes that close an END line as the start of a BEGIN line', () => {
    const two = '-----BEGIN CERTIFICATE-----x-----END CERTIFICATE-----BEGIN CERTIFICATE-----y-----END CERTIFICATE-----';
    assert.deepEqual(blocks(two), [['CERTIFICATE', 'x']]);
  });
  it('stops at a BEGIN line after the last END line of its label', () => {
    assert.deepEqual(blocks('-----BEGIN A-----x-----END A-----\n-----BEGIN A-----y\n'), [['A', 'x']]);
  });
});

describe('readCertificates without a certificate', () => {
  const read = (text: string): InputError => {
    try {
      readCertificates(Buffer.from(text), 'in.pem');
    } catch (err) {
      assert.ok(err instanceof InputError, String(err));
      return err;
    }
    assert.fail('no error');
  };
  it('names the blocks it found instead', () => {
    assert.equal(read('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n').message, 'in.pem: holds no certificate (found PUBLIC KEY)');
  });
  it('names five of them and counts the rest', () => {
    const text = ['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((t) => `-----BEGIN ${t}-----\n-----END ${t}-----\n`).join('');
    assert.equal(read(text).message, 'in.pem: holds no certificate (found A, B, C, D, E and 2 more)');
    const five = ['A', 'B', 'C', 'D', 'E'].map((t) => `-----BEGIN ${t}-----\n-----END ${t}-----\n`).join('');
    assert.equal(read(five).message, 'in.pem: holds no certificate (found A, B, C, D, E)');
  });
});

describe('findIssuer', () => {
  let root: Issued;
  before(async () => {
    root = await issue({ name: 'Self Signed Root', ca: true });
  });
  it('never names a certificate as its own issuer, even a self-signed one', () => {
    assert.ok(root.cert.isIssuedBy(root.cert), 'the root verifies itself');
    assert.equal(findIssuer(root.cert, [root.cert]), undefined);
    // Another object over the same bytes is the same certificate.
    assert.equal(findIssuer(root.cert, [new Certificate(root.cert.der, 'again')]), undefined);
  });
});
