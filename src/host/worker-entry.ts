/**
 * Entry of every worker thread: builds this thread's host over the shared
 * blocks the system allocated, then serves until told to close.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { ControlMessage, WorkerBoot, WorkerReport } from './boot.js';
import { Host } from './host.js';

const boot = workerData as WorkerBoot;
const port = parentPort!;
for (const url of boot.preload) await import(url);
const logger = pino({ level: boot.options.logLevel, base: { system: boot.systemId, host: boot.index - 1 } });
const host = new Host({ ...boot, logger });

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
      port.postMessage({ type: 'closed' } satisfies WorkerReport);
      port.close();
      break;
  }
});

host.start();
port.postMessage({ type: 'ready' } satisfies WorkerReport);
