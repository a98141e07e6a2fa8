// The routes the daemon's listener serves. Each reads the daemon's state when it answers (the
// engine behind it is replaced when a SIGHUP changes its settings).

import type { Daemon } from '../daemon.ts';
import type { HttpRoute } from './route.ts';

export function daemonRoutes(daemon: Daemon): HttpRoute[] {
  void daemon;
  return [];
}
