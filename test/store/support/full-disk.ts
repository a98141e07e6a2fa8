// A process whose files cannot grow (RLIMIT_FSIZE 0, set on itself with prlimit): every write
// fails with EFBIG, as on a full disk, while creating empty files still works. It tries the store
// methods that write and reports what each did (test/store/directory-failures.test.ts).

import { execFileSync } from 'node:child_process';
import { DirectoryStore } from '../../../src/store/directory-store.ts';

const KEY = 'e'.repeat(64);

process.on('message', (msg: { dir: string }) => {
  void (async () => {
    const store = new DirectoryStore(msg.dir);
    process.on('SIGXFSZ', () => undefined); // a failed write, not a killed process
    execFileSync('prlimit', ['--pid', String(process.pid), '--fsize=0']);
    const outcome = async (fn: () => Promise<unknown>): Promise<string> => {
      try {
        const result = await fn();
        return `ok ${result === null ? 'null' : typeof result}`;
      } catch (err) {
        return `error ${(err as Error).name}: ${(err as Error).message}`;
      }
    };
    const save = await outcome(() => store.save(KEY, Buffer.from('staple'), Date.now() + 3_600_000));
    const acquire = await outcome(() => store.acquire(KEY, 30_000));
    process.send!({ save, acquire });
  })();
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
