/**
 * A node of the cluster benchmark in its own process:
 *   node cluster-node.js <nats url> <cluster> <node> <workers>
 * A troupe node with an echo and a tally on its main thread and on a worker,
 * and beside it, on a NATS connection of its own, the raw baselines: an echo
 * responder (`raw.echo.<node>`) and a counting subscriber (`raw.sink.<node>`,
 * its count asked on `raw.count.<node>`); and a Moleculer broker on its NATS
 * transporter (the same server) with a service `echo-<node>` whose action
 * `echo` answers its params. Prints `ready` when all serve. A line
 * `block <ms>` on stdin keeps its main thread busy that long (a synchronous
 * loop), then prints `unblocked`.
 */
import { connect } from '@nats-io/transport-node';
import moleculer from 'moleculer';
import { ActorSystem } from 'troupe';

const [url, cluster, node, workers] = process.argv.slice(2);
const system = await ActorSystem.start({ workers: Number(workers), logLevel: 'silent', cluster: { servers: url, name: cluster, node } });
const echo = new URL('../../actors/echo.js', import.meta.url);
const tally = new URL('./tally.js', import.meta.url);
await system.spawn(echo, { name: 'echo-main', host: 'main' });
await system.spawn(tally, { name: 'tally-main', host: 'main' });
if (Number(workers) > 0) await system.spawn(echo, { name: 'echo-worker', host: 0 });

const nc = await connect({ servers: url });
nc.subscribe(`raw.echo.${node}`, {
  callback: (error, msg) => {
    if (error === null) msg.respond(msg.data);
  },
});
let sunk = 0;
nc.subscribe(`raw.sink.${node}`, {
  callback: () => {
    sunk++;
  },
});
nc.subscribe(`raw.count.${node}`, {
  callback: (error, msg) => {
    if (error === null) msg.respond(new TextEncoder().encode(String(sunk)));
  },
});
await nc.flush();
const broker = new moleculer.ServiceBroker({ namespace: cluster, nodeID: `mol-${node}`, transporter: { type: 'NATS', options: { url } }, logger: false });
broker.createService({ name: `echo-${node}`, actions: { echo: (ctx: moleculer.Context) => ctx.params } });
await broker.start();
process.stdout.write('ready\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  for (const line of chunk.split('\n')) {
    const [word, ms] = line.split(' ');
    if (word !== 'block') continue;
    const until = performance.now() + Number(ms);
    while (performance.now() < until);
    process.stdout.write('unblocked\n');
  }
});
process.stdin.on('end', () => void system.shutdown().then(() => nc.close()).then(() => broker.stop()).then(() => process.exit(0)));
