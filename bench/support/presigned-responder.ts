// A fast OCSP responder for benchmarks, in its own process: it answers from responses signed
// beforehand (a file of records: u16 length, then the DER), keyed by the CertID's serial, so that
// the stapler under test is the bottleneck, not the CA. It counts the requests it answers.
//
// Run by bench scripts through startPresignedResponder(); as a child it reads
// { file, port } from IPC, answers { port } when listening, and { requests } when asked.

import { fork, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRequest } from '../../src/ocsp/request-parse.ts';

/** Write responses for the responder to serve: one record per response. */
export async function writeResponses(file: string, responses: readonly Buffer[]): Promise<void> {
  const parts: Buffer[] = [];
  for (const der of responses) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(der.length);
    parts.push(length, der);
  }
  await writeFile(file, Buffer.concat(parts));
}

export interface PresignedResponder {
  readonly url: string;
  requests(): Promise<number>;
  stop(): Promise<void>;
}

export async function startPresignedResponder(file: string, port = 0): Promise<PresignedResponder> {
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--child'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const listening = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`presigned responder exited (${code})`)));
    child.send({ file, port });
  });
  return {
    url: `http://127.0.0.1:${listening}/`,
    requests: () =>
      new Promise((resolve) => {
        child.once('message', (m: { requests: number }) => resolve(m.requests));
        child.send({ count: true });
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

/** The serial inside a response: the first CertID's INTEGER (walked with the responses' known shape). */
function serialKey(der: Buffer): string {
  // Our own responses only: find the SHA-1 CertID (two 20-byte hashes) and take the INTEGER after it.
  const at = der.indexOf(Buffer.from([0x04, 0x14]));
  const second = der.indexOf(Buffer.from([0x04, 0x14]), at + 22);
  const intAt = second + 22;
  return der.subarray(intAt + 2, intAt + 2 + der[intAt + 1]!).toString('hex');
}

async function child(): Promise<void> {
  const { file, port } = await new Promise<{ file: string; port: number }>((resolve) => process.once('message', resolve));
  const data = await readFile(file);
  const bySerial = new Map<string, Buffer>();
  for (let at = 0; at < data.length;) {
    const n = data.readUInt16BE(at);
    const der = data.subarray(at + 2, at + 2 + n);
    bySerial.set(serialKey(der), der);
    at += 2 + n;
  }
  let requests = 0;
  const answer = (res: ServerResponse, body: Buffer): void => {
    let der: Buffer | undefined;
    try {
      der = bySerial.get(Buffer.from(parseRequest(body).certIds[0]!.serial).toString('hex'));
    } catch {
      der = undefined;
    }
    requests++;
    if (!der) {
      res.writeHead(200, { 'Content-Type': 'application/ocsp-response' }).end(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x06]));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/ocsp-response', 'Content-Length': der.length }).end(der);
  };
  const server = createServer((req: IncomingMessage, res) => {
    if (req.method === 'GET') {
      answer(res, Buffer.from(decodeURIComponent(req.url!.slice(req.url!.lastIndexOf('/') + 1)), 'base64'));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => process.send!({ requests }));
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--child')) await child();
