/**
 * A plain worker thread for the baselines: no troupe, just `postMessage`
 * (or comlink on top of it). `workerData.role` says what it does.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { serveSink, timePosts, type Control, type PlainRole, type Port } from './post.js';

const port = parentPort!;
const role = (workerData as { role: PlainRole }).role;

switch (role) {
  case 'echo':
    port.on('message', (message: unknown) => port.postMessage(message));
    break;
  case 'sink':
    serveSink(port);
    break;
  case 'comlink':
    Comlink.expose({ echo: (value: unknown) => value }, nodeEndpoint(port));
    break;
  case 'producer': {
    let peer: MessagePort | undefined;
    port.on('message', (message: Control) => {
      if (message.cmd === 'port') {
        peer = message.port;
        port.postMessage({ cmd: 'done', count: 0 } satisfies Control);
      } else if (message.cmd === 'produce') {
        void timePosts(peer as unknown as Port, message.n, message.batch, message.bytes).then((ms) => port.postMessage({ cmd: 'produced', ms } satisfies Control));
      }
    });
    break;
  }
}
