/**
 * The cluster's heartbeat thread: its own NATS connection, its own event
 * loop, no actors. It says this node is alive every `heartbeatMs` and judges
 * the others' silence (membership.ts), so a main thread or worker busy for
 * seconds does not make its node look dead (Moleculer's heartbeats starved by
 * a busy event loop, #891). Each heartbeat goes out once and NATS fans it out;
 * the detector's verdicts go to the main thread as they happen.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Packr, Unpackr } from 'msgpackr';
import type { HeartbeatBoot, HeartbeatCommand, HeartbeatReport } from './heartbeat-protocol.js';
import { Membership } from './membership.js';
import { connectionOptions } from './cluster-options.js';
import { subjectsOf } from './subjects.js';

const port = parentPort!;
const { cluster, incarnation } = workerData as HeartbeatBoot;
const subjects = subjectsOf(cluster.name);
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const membership = new Membership(cluster.node, cluster);
const report = (message: HeartbeatReport): void => port.postMessage(message);

let nc: NatsConnection;
try {
  nc = await connect(connectionOptions(cluster, 'heartbeats'));
} catch (error) {
  report({ type: 'failed', message: (error as Error).message });
  process.exit(0);
}

let seq = 0;
let muted = false;
const beat = (leaving: boolean): void => {
  if (muted && !leaving) return;
  try {
    nc.publish(subjects.heartbeats, packr.pack({ n: cluster.node, i: incarnation, s: ++seq, l: leaving }));
  } catch {
    // Closed or draining: the next beat, if any, tries again.
  }
};

const subscription = nc.subscribe(subjects.heartbeats, {
  callback: (error, msg) => {
    if (error !== null || muted) return;
    let beatOf: { n?: unknown; i?: unknown; l?: unknown };
    try {
      beatOf = unpackr.unpack(msg.data) as typeof beatOf;
    } catch {
      return; // Not a troupe heartbeat: ignored, never fatal.
    }
    if (typeof beatOf?.n !== 'string' || typeof beatOf.i !== 'number') return;
    for (const event of membership.heard(beatOf.n, beatOf.i, beatOf.l === true, performance.now())) report({ type: 'member', event });
  },
});

// The first beat at once, so peers learn of a new node in one round trip, not one interval.
beat(false);
await nc.flush();
const beats = setInterval(() => beat(false), cluster.heartbeatMs);
const checks = setInterval(() => {
  for (const event of membership.tick(performance.now())) report({ type: 'member', event });
}, Math.max(5, Math.floor(cluster.heartbeatMs / 2)));
report({ type: 'ready' });

port.on('message', (command: HeartbeatCommand) => {
  if (command.type === 'mute') {
    muted = command.muted;
    return;
  }
  clearInterval(beats);
  clearInterval(checks);
  subscription.unsubscribe();
  beat(true);
  nc.flush()
    .catch(() => undefined)
    .then(() => nc.close())
    .catch(() => undefined)
    .finally(() => {
      report({ type: 'left' });
      port.close();
    });
});
