/**
 * Entry of every worker thread: builds this thread's host over the shared
 * blocks the system allocated, then serves until told to close. A spare
 * worker (booted ahead, runtime and preloads imported, a takeover rehearsed)
 * waits for the host index of a worker that died and takes it over in about
 * a millisecond.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { adoptProcessOrigin } from '../actor/process-origin.js';
import type { ControlMessage, SpareBoot, WorkerBoot, WorkerFault, WorkerReport } from './boot.js';
import { Host } from './host.js';
import { flushSpans, loadOtel } from './tracing.js';

/** Longest a closing worker waits for its tracer provider to export what it holds. */
const kFlushSpansMs = 2000;
import { kRehearsedActors, kRehearsedTakeovers, kSettleAfterRehearsalMs, rehearseTakeover } from './rehearsal.js';

const port = parentPort!;
const data = workerData as WorkerBoot | SpareBoot;
for (const url of data.preload) await import(url);

// A spare loads the package's public entry too, which every actor module
// imports (defineActor): otherwise the first restart after a takeover waits
// for it (tens of modules, ~30 ms), and so does every actor it restarts.
// By the package's own name, as actor modules import it (Node resolves a
// package's name from inside it through its exports map): the same module
// they will get, and no import of the entry layer from the host layer.
if ('spare' in data) {
  await import('troupe');
  await rehearse(data.options, data.workersRestart);
}

const warmed = new Map<string, Record<string, unknown>>();
const boot: WorkerBoot =
  'spare' in data
    ? await new Promise<WorkerBoot>((resolve) => {
        // The spare's event loop stays alive on this listener until adopted.
        const listener = (message: ControlMessage): void => {
          if (message.type === 'warm') {
            // A module that fails here fails again, with its typed error, when an actor is started from it.
            for (const url of message.urls) {
              import(url).then(
                (module: Record<string, unknown>) => warmed.set(url, module),
                () => undefined,
              );
            }
            return;
          }
          port.off('message', listener);
          if (message.type === 'adopt') resolve(message.boot);
          else process.exit(0);
        };
        port.on('message', listener);
        port.postMessage({ type: 'spare-ready' } satisfies WorkerReport);
      })
    : data;

adoptProcessOrigin(boot.origin);
const logger = pino({ level: boot.options.logLevel, base: { system: boot.systemId, host: boot.index - 1 } });
// After the preloads: one of them registers the application's tracer provider.
const otel = boot.options.tracing ? await loadOtel() : undefined;
const host = new Host({ ...boot, logger, loadedModules: warmed, otel });

// Node 20: a pending Atomics.waitAsync does not keep a worker alive; this
// listener on the control port does, while the host is parked.
port.on('message', (message: ControlMessage) => {
  switch (message.type) {
    case 'host-down':
      host.hostDown(message.host, message.detail, message.consumedTo);
      host.nudge();
      break;
    case 'close':
      host.close();
      logger.flush();
      // The spans a batch processor of the application's still holds go out first: nothing else on this thread can send them.
      void (otel === undefined ? Promise.resolve() : flushSpans(otel, kFlushSpansMs)).then(() => {
        port.postMessage({ type: 'closed' } satisfies WorkerReport);
        port.close();
      });
      break;
    case 'adopt':
    case 'warm':
      break;
    case 'chaos':
      inflict(message.fault);
      break;
  }
});

host.start();
port.postMessage({ type: 'ready' } satisfies WorkerReport);

function inflict(fault: WorkerFault): void {
  switch (fault.kind) {
    case 'exit':
      process.exit(fault.code);
      break;
    case 'stall': {
      // A synchronous loop: exactly what the heartbeat watch is for.
      const until = fault.ms === undefined ? Number.POSITIVE_INFINITY : performance.now() + fault.ms;
      while (performance.now() < until);
      break;
    }
    case 'exhaust-heap': {
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array(1 << 16).fill(hoard.length));
    }
  }
}

/**
 * A spare plays a takeover through before it says it is ready (see
 * rehearsal.ts), then lets the compilation it queued finish: Node cannot
 * finish tearing down a dying worker while any isolate's background tasks are
 * pending, so a spare still compiling would slow the detection of the very
 * death it is there to repair. A rehearsal that fails costs only its speed-up.
 */
async function rehearse(options: WorkerBoot['options'], workersRestart: boolean): Promise<void> {
  try {
    await rehearseTakeover(options, kRehearsedActors, kRehearsedTakeovers, workersRestart);
  } catch (error) {
    pino({ level: options.logLevel }).warn({ err: error }, 'spare worker rehearsal failed; it serves unrehearsed');
  }
  await new Promise((resolve) => setTimeout(resolve, kSettleAfterRehearsalMs));
}
