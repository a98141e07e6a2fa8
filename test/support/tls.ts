// Real TLS handshakes for the integration tests: a Node client asking for OCSP, and
// `openssl s_client -status`.

import { execFile } from 'node:child_process';
import { connect, type ConnectionOptions, type PeerCertificate } from 'node:tls';

export interface Handshake {
  /** The stapled response, or null when the server sent none. */
  readonly staple: Buffer | null;
  readonly protocol: string | null;
  readonly peerSerial: string;
}

export function handshake(port: number, opts: { servername?: string; tls?: '1.2' | '1.3'; alpn?: string[] } = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | null = null;
    const version = opts.tls === '1.2' ? ('TLSv1.2' as const) : ('TLSv1.3' as const);
    // requestOCSP reaches the TLSSocket, but @types/node leaves it out of ConnectionOptions.
    const options: ConnectionOptions & { requestOCSP: boolean } = {
      host: '127.0.0.1',
      port,
      servername: opts.servername ?? 'leaf.test',
      requestOCSP: true,
      minVersion: version,
      maxVersion: version,
      rejectUnauthorized: false, // the test PKI's leaves carry no SAN; trust is not what is tested here
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    };
    const socket = connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('handshake timed out'));
    }, 10_000);
    socket.on('OCSPResponse', (response: Buffer | null) => {
      staple = response && response.length > 0 ? response : null;
    });
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      const peer: PeerCertificate = socket.getPeerCertificate();
      resolve({ staple, protocol: socket.getProtocol(), peerSerial: peer.serialNumber.toUpperCase() });
      socket.end();
    });
    socket.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface OpensslStatus {
  readonly stapled: boolean;
  readonly responseStatus: string | null;
  readonly certStatus: string | null;
  readonly output: string;
}

export function opensslStatus(port: number, opts: { servername?: string; tls?: '1.2' | '1.3' } = {}): Promise<OpensslStatus> {
  return new Promise((resolve, reject) => {
    const args = [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      opts.servername ?? 'leaf.test',
      '-status',
      opts.tls === '1.2' ? '-tls1_2' : '-tls1_3',
    ];
    const child = execFile('openssl', args, { timeout: 15_000, encoding: 'utf8' }, (err, stdout) => {
      if (err && !stdout) return reject(new Error(`openssl s_client failed: ${err.message}`));
      const responseStatus = /OCSP Response Status: (\w+)/.exec(stdout)?.[1] ?? null;
      const certStatus = /Cert Status: (\w+)/.exec(stdout)?.[1] ?? null;
      resolve({ stapled: !/OCSP response: no response sent/.test(stdout) && responseStatus !== null, responseStatus, certStatus, output: stdout });
    });
    child.stdin?.end('Q\n');
  });
}
