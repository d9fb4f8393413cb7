/**
 * The raw `postMessage` baselines, shared by the plain worker script and the
 * benchmarks that drive it. Same message, same measurement shape as troupe's:
 * from the first send to the sink's answer that all `n` arrived.
 */
import { once } from 'node:events';
import { Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { ping } from '../lib.js';

/** What a Worker and a MessagePort both are, for our purposes. */
export interface Port {
  postMessage(value: unknown, transfer?: readonly TransferListItem[]): void;
  on(event: 'message', listener: (value: any) => void): unknown;
  once(event: 'message', listener: (value: any) => void): unknown;
}

export type PlainRole = 'echo' | 'sink' | 'producer' | 'comlink';

export type Control =
  | { cmd: 'reset' }
  | { cmd: 'expect'; n: number }
  | { cmd: 'done'; count: number }
  | { cmd: 'port'; port: MessagePort }
  | { cmd: 'produce'; n: number; batch: number; bytes?: number }
  | { cmd: 'produced'; ms: number };

const kPlainWorker = new URL('./plain-worker.js', import.meta.url);

export function startPlainWorker(role: PlainRole): Worker {
  return new Worker(kPlainWorker, { workerData: { role } });
}

/** Posts `n` pings, one per call (`batch` 1) or `batch` per call as arrays; with `bytes`, each carries a Uint8Array of that size. */
export function postAll(port: Port, n: number, batch: number, bytes?: number): void {
  if (bytes !== undefined) {
    const data = new Uint8Array(bytes).fill(7);
    for (let i = 0; i < n; i++) port.postMessage({ to: 1, type: 'ping', n: i, data });
    return;
  }
  if (batch === 1) {
    for (let i = 0; i < n; i++) port.postMessage(ping(i));
    return;
  }
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i);
    const chunk = new Array(size);
    for (let j = 0; j < size; j++) chunk[j] = ping(i + j);
    port.postMessage(chunk);
  }
}

/** Milliseconds from the first post until the sink behind `port` confirms `n`. */
export async function timePosts(port: Port, n: number, batch: number, bytes?: number): Promise<number> {
  const done = once(port as never, 'message');
  port.postMessage({ cmd: 'reset' } satisfies Control);
  const start = performance.now();
  postAll(port, n, batch, bytes);
  port.postMessage({ cmd: 'expect', n } satisfies Control);
  await done;
  return performance.now() - start;
}

/** Counts pings (single or in arrays) arriving on `port`; answers `expect` when they are all in. */
export function serveSink(port: Port): void {
  let count = 0;
  let expected = -1;
  port.on('message', (message: unknown) => {
    if (Array.isArray(message)) {
      count += message.length;
    } else {
      const control = message as Partial<Control> & { cmd?: string };
      if (control.cmd === undefined) count++;
      else if (control.cmd === 'reset') count = 0;
      else if (control.cmd === 'expect') expected = (control as { n: number }).n;
      else if (control.cmd === 'port') serveSink((control as { port: Port }).port);
    }
    if (expected >= 0 && count >= expected) {
      expected = -1;
      port.postMessage({ cmd: 'done', count } satisfies Control);
    }
  });
}

/** Posts `message` to a worker and resolves with the next message it sends back. */
export function request<T>(port: Port, message: unknown, transfer?: readonly TransferListItem[]): Promise<T> {
  const reply = new Promise<T>((resolve) => port.once('message', resolve));
  port.postMessage(message, transfer);
  return reply;
}
