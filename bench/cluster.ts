/**
 * The cluster across processes: this process and two child processes are
 * three troupe nodes over one nats-server on loopback. Side by side in the
 * same run, the engine's own ceiling with the same client and payloads: raw
 * publish → subscriber in another process, and request/reply done by hand
 * (one inbox subscription, publish with a reply subject), plus the client's
 * `request()`; and Moleculer (0.15.2 on its NATS transporter, `nats` 2.29.3,
 * default JSON serializer, over the same server) calling an echo action on
 * the other process, sequentially and with 1,000 in flight: the Node peer
 * its users know.
 *
 *   node dist/bench/cluster.js [--quick] [--count N] [--runs N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import moleculer from 'moleculer';
import { Packr } from 'msgpackr';
import { ActorSystem, type ActorRef } from 'troupe';
import { emit, intFlag, median, medianOf, parseFlags, perSecond, ping, produce, progress, repeat, round, sleep, timeRoundTrips, type LatencyUs } from './lib.js';
import { startNats } from './nats-server.js';

const flags = parseFlags();
const count = intFlag(flags, 'count', flags.quick ? 2_000 : 20_000);
const tells = intFlag(flags, 'tells', flags.quick ? 50_000 : 500_000);
const runs = intFlag(flags, 'runs', flags.quick ? 1 : 3);
const inFlight = 1000;
const show = (r: LatencyUs): string => `p50 ${r.p50} µs, p99 ${r.p99} µs`;
const showRate = (r: number): string => `${r.toLocaleString('en-US')} /s`;

const nats = await startNats();
const children: ChildProcess[] = [];
async function startNode(node: string): Promise<void> {
  const script = fileURLToPath(new URL('./actors/cluster-node.js', import.meta.url));
  const child = spawn(process.execPath, [script, nats.url, 'bench', node, '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stdout! })) if (line === 'ready') return;
  throw new Error(`bench node ${node} exited before it was ready`);
}

const system = await ActorSystem.start({ workers: 1, logLevel: 'silent', cluster: { servers: nats.url, name: 'bench', node: 'n1' } });
const seen = Promise.all(['n2', 'n3'].map((node) => system.cluster.events.waitFor('nodeUp', (e) => e.node === node, { timeoutMs: 30_000 })));
await Promise.all([startNode('n2'), startNode('n3')]);
await seen;
const echoUrl = new URL('../actors/echo.js', import.meta.url);
const echoMain: ActorRef = await system.spawn(echoUrl, { node: 'n2', host: 'main' });
const echoWorker: ActorRef = await system.spawn(echoUrl, { node: 'n2', host: 0 });
const tallyUrl = new URL('./actors/tally.js', import.meta.url);

// ---------------------------------------------------------------- raw NATS
const raw: NatsConnection = await connect({ servers: nats.url });
const packr = new Packr({ useRecords: false });
const payloads = Array.from({ length: 1024 }, (_, i) => packr.pack(ping(i)));
const inbox = `_INBOX.bench.${process.pid}`;
let answer: (() => void) | undefined;
// One responder on one connection answers in the order asked: a FIFO of waiters is enough.
const answers: (() => void)[] = [];
let answered = 0;
raw.subscribe(inbox, {
  callback: () => {
    answer?.();
  },
});
raw.subscribe(`${inbox}.many`, {
  callback: () => {
    answers[answered++]?.();
  },
});
await raw.flush();

const rawByHand = (): Promise<LatencyUs> =>
  timeRoundTrips(count, (i) => new Promise<void>((resolve) => {
    answer = resolve;
    raw.publish('raw.echo.n2', payloads[i & 1023], { reply: inbox });
  }));
const rawRequest = (): Promise<LatencyUs> => timeRoundTrips(count, (i) => raw.request('raw.echo.n2', payloads[i & 1023], { timeout: 5000 }));

/** `total` requests by hand with `window` in flight (answers come back in order on one connection). */
async function rawInFlight(total: number, window: number): Promise<number> {
  let sent = 0;
  let done = 0;
  answers.length = 0;
  answered = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const sendOne = (): void => {
      const i = sent++;
      answers.push(() => {
        done++;
        if (done === total) resolve();
        else if (sent < total) sendOne();
      });
      raw.publish('raw.echo.n2', payloads[i & 1023], { reply: `${inbox}.many` });
    };
    for (let i = 0; i < Math.min(window, total); i++) sendOne();
  });
  return perSecond(total, performance.now() - started);
}

async function rawPublish(total: number): Promise<number> {
  const before = Number(new TextDecoder().decode((await raw.request('raw.count.n2', undefined, { timeout: 5000 })).data));
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    raw.publish('raw.sink.n2', payloads[i & 1023]);
    if ((i & 4095) === 4095) await raw.flush();
  }
  for (;;) {
    const now = Number(new TextDecoder().decode((await raw.request('raw.count.n2', undefined, { timeout: 5000 })).data));
    if (now - before >= total) break;
    await sleep(1);
  }
  return perSecond(total, performance.now() - started);
}

// --------------------------------------------------------------- Moleculer
const broker = new moleculer.ServiceBroker({ namespace: 'bench', nodeID: 'mol-n1', transporter: { type: 'NATS', options: { url: nats.url } }, logger: false });
await broker.start();
await broker.waitForServices(['echo-n2'], 30_000);
const moleculerCall = (): Promise<LatencyUs> => timeRoundTrips(count, (i) => broker.call('echo-n2.echo', ping(i)));

async function moleculerInFlight(total: number, window: number): Promise<number> {
  let sent = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (sent < total) await broker.call('echo-n2.echo', ping(sent++), { timeout: 60_000 });
  };
  await Promise.all(Array.from({ length: window }, lane));
  return perSecond(total, performance.now() - started);
}

// ------------------------------------------------------------------ troupe
const troupeAsk = (ref: ActorRef) => (): Promise<LatencyUs> => timeRoundTrips(count, (i) => ref.ask(ping(i)));

async function troupeInFlight(ref: ActorRef, total: number, window: number): Promise<number> {
  let sent = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (sent < total) await ref.ask(ping(sent++), { timeoutMs: 60_000 });
  };
  await Promise.all(Array.from({ length: window }, lane));
  return perSecond(total, performance.now() - started);
}

async function troupeTell(total: number): Promise<number> {
  const tally = await system.spawn(tallyUrl, { node: 'n2', host: 'main' });
  const started = performance.now();
  await produce((i) => tally.tell(ping(i)), total, 1000, () => tally.whenWritable());
  while ((await tally.ask({ type: 'count' }, { timeoutMs: 60_000 })) < total) await sleep(1);
  const rate = perSecond(total, performance.now() - started);
  await system.stop(tally);
  return rate;
}

// Warm both paths once.
await rawByHand();
await moleculerCall();
await troupeAsk(echoMain)();
const results = {
  rawByHand: await repeat('raw NATS request/reply by hand', runs, 0, rawByHand, show),
  rawRequest: await repeat('raw NATS nc.request()', runs, 0, rawRequest, show),
  askMain: await repeat('troupe ask n1 → n2 (echo on main)', runs, 0, troupeAsk(echoMain), show),
  askWorker: await repeat('troupe ask n1 → n2 (echo on a worker)', runs, 0, troupeAsk(echoWorker), show),
  moleculerCall: await repeat('Moleculer call n1 → n2', runs, 0, moleculerCall, show),
  rawInFlight: await repeat(`raw NATS by hand, ${inFlight} in flight`, runs, 0, () => rawInFlight(count * 5, inFlight), showRate),
  askInFlight: await repeat(`troupe ask, ${inFlight} in flight`, runs, 0, () => troupeInFlight(echoMain, count * 5, inFlight), showRate),
  moleculerInFlight: await repeat(`Moleculer call, ${inFlight} in flight`, runs, 0, () => moleculerInFlight(count * 5, inFlight), showRate),
  rawPublish: await repeat('raw NATS publish → subscriber', runs, 0, () => rawPublish(tells), showRate),
  tell: await repeat('troupe tell n1 → n2', runs, 0, () => troupeTell(tells), showRate),
};

const byHand = medianOf(results.rawByHand);
const request = medianOf(results.rawRequest);
const askMain = medianOf(results.askMain);
const askWorker = medianOf(results.askWorker);
const molCall = medianOf(results.moleculerCall);
const molWindow = median(results.moleculerInFlight);
const rawWindow = median(results.rawInFlight);
const askWindow = median(results.askInFlight);
const rawPub = median(results.rawPublish);
const tell = median(results.tell);

emit({
  name: 'cluster',
  params: { count, tells, runs, inFlight, nodes: 3, workersPerNode: 1, message: ping(0), server: 'nats-server on 127.0.0.1' },
  summary: [
    { metric: 'cross-node ask p50, sequential (echo on main)', value: askMain.p50, unit: 'µs', baseline: 'raw NATS request/reply by hand p50', baselineValue: byHand.p50, ratio: round(byHand.p50 / askMain.p50), target: '≥ 1×' },
    { metric: 'cross-node ask p99, sequential (echo on main)', value: askMain.p99, unit: 'µs', baseline: 'raw NATS request/reply by hand p99', baselineValue: byHand.p99, ratio: round(byHand.p99 / askMain.p99) },
    { metric: 'cross-node ask p50, sequential (echo on a worker)', value: askWorker.p50, unit: 'µs', baseline: 'raw NATS nc.request() p50', baselineValue: request.p50, ratio: round(request.p50 / askWorker.p50) },
    { metric: 'cross-node ask p50, sequential (echo on main), against Moleculer', value: askMain.p50, unit: 'µs', baseline: 'Moleculer call p50 (NATS transporter)', baselineValue: molCall.p50, ratio: round(molCall.p50 / askMain.p50), target: '> 1×' },
    { metric: 'cross-node ask mean, sequential (echo on main), against Moleculer', value: askMain.mean, unit: 'µs', baseline: 'Moleculer call mean', baselineValue: molCall.mean, ratio: round(molCall.mean / askMain.mean) },
    { metric: `cross-node asks/s, ${inFlight} in flight, against Moleculer`, value: askWindow, unit: 'calls/s', baseline: `Moleculer calls/s, ${inFlight} in flight`, baselineValue: molWindow, ratio: round(askWindow / molWindow), target: '≥ 2×' },
    { metric: `cross-node asks/s, ${inFlight} in flight`, value: askWindow, unit: 'calls/s', baseline: `raw NATS by hand, ${inFlight} in flight`, baselineValue: rawWindow, ratio: round(askWindow / rawWindow) },
    { metric: 'cross-node tell throughput', value: tell, unit: 'msgs/s', baseline: 'raw NATS publish → subscriber', baselineValue: rawPub, ratio: round(tell / rawPub), target: '≥ 1×' },
  ],
  results: { note: 'latencies in µs; ratio: higher is better for troupe', ...results },
});

await raw.close();
await broker.stop();
await system.shutdown();
for (const child of children) child.stdin!.end();
await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)))));
await nats.stop();
progress('cluster bench done');
