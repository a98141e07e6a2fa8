// The pretty log format: pino's JSON lines made readable, and the choice between the two.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { chooseLogFormat, formatLine, prettyDestination } from '../../src/cli/pretty-log.ts';
import { pinoLogger } from '../../src/engine/logger.ts';

describe('pretty logs', () => {
  it('print time, level, message and the fields, one line per entry', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-11-22T05:06:07.089Z',
      pid: 1,
      hostname: 'h',
      name: 'stapler',
      msg: 'OCSP refresh failed',
      file: '/etc/a b.pem',
      failures: 2,
    });
    assert.equal(formatLine(line, false), '05:06:07.089 WARN  OCSP refresh failed  file="/etc/a b.pem" failures=2\n');
    assert.ok(formatLine(line, true).includes('\u001b[33mWARN \u001b[0m'), 'WARN in yellow');
    assert.equal(formatLine('not json', false), 'not json\n');
  });
  it('are what pino writes to the pretty destination', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const log = pinoLogger('info', prettyDestination(out));
    log.info({ certificates: 3 }, 'stapler daemon started');
    log.debug({}, 'not at this level');
    assert.match(chunks.join(''), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}stapler daemon started\s\scertificates=3\n$/);
  });
  it('are chosen on a terminal; JSON otherwise; the flag or config wins', () => {
    assert.equal(chooseLogFormat(null, true), 'pretty');
    assert.equal(chooseLogFormat(null, false), 'json');
    assert.equal(chooseLogFormat('json', true), 'json');
    assert.equal(chooseLogFormat('pretty', false), 'pretty');
  });
});
