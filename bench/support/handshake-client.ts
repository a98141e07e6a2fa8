// A handshake load generator, run as a child process so that it has a core of its own.
// Commands over IPC:
//   { op: 'rate', port, ms, concurrency, tls }  -> { handshakes, perSecond, stapled }
//   { op: 'latency', port, n, tls }             -> { samples: number[] (ms), stapled }
// Every connection asks for OCSP (status_request) and is a full handshake (no resumption).

import { connect, type ConnectionOptions } from 'node:tls';

type Tls = '1.2' | '1.3';
type Command = { op: 'rate'; port: number; ms: number; concurrency: number; tls: Tls } | { op: 'latency'; port: number; n: number; tls: Tls };

function once(port: number, tls: Tls): Promise<{ ms: number; stapled: boolean }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let stapled = false;
    const version = tls === '1.2' ? ('TLSv1.2' as const) : ('TLSv1.3' as const);
    const options: ConnectionOptions & { requestOCSP: boolean } = {
      host: '127.0.0.1',
      port,
      servername: 'leaf.test',
      requestOCSP: true,
      minVersion: version,
      maxVersion: version,
      rejectUnauthorized: false,
    };
    const socket = connect(options);
    socket.on('OCSPResponse', (r: Buffer | null) => (stapled = !!r && r.length > 0));
    socket.on('secureConnect', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      socket.destroy();
      resolve({ ms, stapled });
    });
    socket.on('error', reject);
  });
}

async function rate(c: Extract<Command, { op: 'rate' }>): Promise<object> {
  const end = Date.now() + c.ms;
  let handshakes = 0;
  let stapled = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: c.concurrency }, async () => {
      while (Date.now() < end) {
        const r = await once(c.port, c.tls);
        handshakes++;
        if (r.stapled) stapled++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { handshakes, perSecond: handshakes / seconds, stapled };
}

async function latency(c: Extract<Command, { op: 'latency' }>): Promise<object> {
  const samples: number[] = [];
  let stapled = 0;
  for (let i = 0; i < c.n; i++) {
    const r = await once(c.port, c.tls);
    samples.push(r.ms);
    if (r.stapled) stapled++;
  }
  return { samples, stapled };
}

process.on('message', (c: Command) => {
  void (c.op === 'rate' ? rate(c) : latency(c)).then(
    (result) => process.send!({ ok: true, result }),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
