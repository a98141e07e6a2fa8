// A process that races for a store lease when its parent says so (test/store/lock-race.test.ts).
// Message in: {dir, key, startAt}; it spins until startAt so that all racers start together,
// then calls acquire once. Message out: {won} or {error}.

import { DirectoryStore } from '../../../src/store/directory-store.ts';

interface Go {
  readonly dir: string;
  readonly key: string;
  readonly startAt: number;
}

process.on('message', (go: Go) => {
  const store = new DirectoryStore(go.dir);
  while (Date.now() < go.startAt) {
    // spin: a timer would add up to a millisecond of jitter, and the race needs them together
  }
  store.acquire(go.key, 30_000).then(
    (lease) => process.send!({ won: lease !== null }),
    (err: unknown) => process.send!({ error: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
