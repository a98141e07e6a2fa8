// The real peers the tests start, found by the rule scripts/install-peers.sh uses: the caller's
// PATH plus /usr/sbin (where Debian keeps apache2, nginx and haproxy). A test whose peer is
// missing is skipped with a reason that starts `missing peer <name>:`; scripts/test.sh reads
// those reasons and fails the run unless STAPLER_ALLOW_MISSING_PEERS names the peer (or is 1).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';

const SBIN = '/usr/sbin';
if (!(process.env.PATH ?? '').split(delimiter).includes(SBIN)) process.env.PATH = `${process.env.PATH ?? ''}${delimiter}${SBIN}`;

const ROOT = new URL('../..', import.meta.url).pathname;
const runs = (cmd: string, ...args: string[]): boolean => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;

export const CHROMIUM = '/usr/bin/chromium';
export const APACHE_MODULES = '/usr/lib/apache2/modules';
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/** Each peer: how to tell it is there, and what is missing when it is not. */
const PEERS = {
  openssl: { present: () => runs('openssl', 'version'), what: 'the openssl binary' },
  nginx: { present: () => runs('nginx', '-v'), what: 'nginx' },
  haproxy: { present: () => runs('haproxy', '-v'), what: 'haproxy' },
  apache2: {
    present: () => runs('apache2', '-v') && existsSync(`${APACHE_MODULES}/mod_ssl.so`),
    what: 'apache2 with mod_ssl',
  },
  java: { present: () => runs('javac', '-version') && runs('java', '-version'), what: 'a JDK (javac and java)' },
  redis: { present: () => runs('redis-server', '--version') && runs('redis-cli', '--version'), what: 'redis-server and redis-cli' },
  chromium: { present: () => existsSync(CHROMIUM), what: CHROMIUM },
  // An `openssl ocsp` CA whose clock runs behind (LD_PRELOAD, so that its pid is openssl's): its responses reach nextUpdate within seconds.
  faketime: { present: () => existsSync(LIBFAKETIME), what: LIBFAKETIME },
  lighttpd: { present: () => runs('lighttpd', '-v') && existsSync('/usr/lib/lighttpd/mod_openssl.so'), what: 'lighttpd with mod_openssl' },
  tomcat: {
    present: () => runs('java', '-version') && existsSync('/usr/share/tomcat10/bin/catalina.sh') && existsSync('/usr/libexec/tomcat10/tomcat-start.sh'),
    what: "Debian's tomcat10 (/usr/share/tomcat10)",
  },
  jetty: { present: () => runs('java', '-version') && existsSync('/usr/share/jetty9/start.jar'), what: "Debian's jetty9 (/usr/share/jetty9/start.jar)" },
  h2o: { present: () => runs('h2o', '--version'), what: 'h2o' },
  hitch: { present: () => runs('hitch', '--version'), what: 'hitch' },
  exim: { present: () => runs('exim4', '-bV'), what: 'exim4 (exim4-daemon-light)' },
  dist: {
    present: () => existsSync(`${ROOT}dist/cli/main.js`),
    what: 'the built dist/ (run `npm run build`)',
  },
} satisfies Record<string, { present: () => boolean; what: string }>;

export type Peer = keyof typeof PEERS;
export const PEER_NAMES = Object.keys(PEERS) as Peer[];

const seen = new Map<Peer, boolean>();
/** Whether the peer is installed (probed once per process). */
export function hasPeer(peer: Peer): boolean {
  let found = seen.get(peer);
  if (found === undefined) seen.set(peer, (found = PEERS[peer].present()));
  return found;
}

/** The skip reason for a test that needs these peers, or false when all are there. */
export function peerSkip(...peers: Peer[]): string | false {
  const missing = peers.find((p) => !hasPeer(p));
  if (missing === undefined) return false;
  const how = missing === 'dist' ? '' : ' (scripts/install-peers.sh installs it)';
  return `missing peer ${missing}: ${PEERS[missing].what} is not found on PATH or ${SBIN}${how}`;
}
