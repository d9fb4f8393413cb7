/**
 * How the cluster takes a node's loss and a node's busy spell, with the
 * default detector timing (heartbeat 200 ms, unreachable 1 s, down 2 s):
 * this process and three child processes are four nodes over one
 * nats-server on loopback.
 *   1. A node's main thread kept busy (a synchronous loop) for `--busy-ms`
 *      (default 30 s, quick 4 s): counts the nodeDown events the others raise.
 *   2. `--kills` times (default 10, quick 2): an entity owned by one node is
 *      asked, that node is SIGKILLed, and the time until the same entity
 *      answers again (on a survivor, by the new ring) is measured; the node is
 *      then started again and rejoins as a new incarnation.
 *
 *   node dist/bench/cluster-failover.js [--quick] [--kills N] [--busy-ms MS]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ActorSystem } from 'troupe';
import { HashRing } from '../src/cluster/ring.js';
import { emit, intFlag, parseFlags, progress, round } from './lib.js';
import { startNats } from './nats-server.js';

const flags = parseFlags();
const kills = intFlag(flags, 'kills', flags.quick ? 2 : 10);
const busyMs = intFlag(flags, 'busy-ms', flags.quick ? 4000 : 30_000);
const nats = await startNats();
const script = fileURLToPath(new URL('./actors/cluster-node.js', import.meta.url));

interface Child {
  proc: ChildProcess;
  next(word: string): Promise<void>;
}

async function startNode(node: string): Promise<Child> {
  const proc = spawn(process.execPath, [script, nats.url, 'failover', node, '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: { word: string; resolve: () => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const at = waiting.findIndex((w) => w.word === line);
    if (at >= 0) waiting.splice(at, 1)[0].resolve();
  });
  const next = (word: string): Promise<void> => new Promise((resolve) => waiting.push({ word, resolve }));
  await next('ready');
  return { proc, next };
}

const system = await ActorSystem.start({ workers: 1, logLevel: 'silent', cluster: { servers: nats.url, name: 'failover', node: 'n0' } });
const names = ['n1', 'n2', 'n3'];
const children = new Map<string, Child>();
for (const [i, child] of (await Promise.all(names.map(startNode))).entries()) children.set(names[i], child);
await Promise.all(names.map((n) => system.cluster.whenUp(n, { timeoutMs: 30_000 })));

// 1. A busy main thread.
let busyDowns = 0;
const offBusy = system.cluster.events.on('nodeDown', (e) => e.node === 'n1' && busyDowns++);
const unblocked = children.get('n1')!.next('unblocked');
children.get('n1')!.proc.stdin!.write(`block ${busyMs}\n`);
await unblocked;
await new Promise((resolve) => setTimeout(resolve, 1000));
offBusy();
progress(`n1's main thread busy for ${busyMs} ms: ${busyDowns} nodeDown events (down after 2,000 ms of silence)`);

// 2. Kills.
const echo = new URL('../actors/echo.js', import.meta.url);
const all = ['n0', ...names];
const recoveries: number[] = [];
for (let round_ = 0; round_ < kills; round_++) {
  const victim = names[round_ % names.length];
  const ring = new HashRing(all);
  const key = Array.from({ length: 1000 }, (_, i) => `r${round_}-${i}`).find((k) => ring.owner(`echo/${k}`) === victim)!;
  const entity = system.entity(echo, key);
  await entity.ask({ n: 0 }, { timeoutMs: 5000 });
  const killedAt = performance.now();
  children.get(victim)!.proc.kill('SIGKILL');
  for (;;) {
    try {
      await entity.ask({ n: 1 }, { timeoutMs: 500 });
      break;
    } catch {
      // NODE_DOWN while the ring still names the dead node, or a timeout: ask again.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  const ms = performance.now() - killedAt;
  recoveries.push(ms);
  progress(`kill ${round_ + 1}/${kills} of ${victim}: its entity answered on a survivor after ${Math.round(ms)} ms`);
  const up = system.cluster.events.waitFor('nodeUp', (e) => e.node === victim, { timeoutMs: 30_000 });
  children.set(victim, await startNode(victim));
  await up;
}

const sorted = [...recoveries].sort((a, b) => a - b);
const pick = (q: number): number => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
emit({
  name: 'cluster-failover',
  params: { kills, busyMs, nodes: 4, heartbeatMs: 200, suspectAfterMs: 1000, downAfterMs: 2000 },
  summary: [
    { metric: 'SIGKILL of a node → its entity answering on a survivor, p50', value: pick(0.5), unit: 'ms' },
    { metric: 'SIGKILL of a node → its entity answering on a survivor, p99', value: pick(0.99), unit: 'ms', target: '≤ 3000 ms' },
    { metric: `nodeDown events for a node whose main thread was busy ${busyMs} ms`, value: busyDowns, unit: 'events', target: '0' },
  ],
  results: { recoveriesMs: recoveries.map((ms) => round(ms)) },
});

await system.shutdown();
for (const child of children.values()) child.proc.kill('SIGKILL');
await nats.stop();
