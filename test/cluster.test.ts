/**
 * The cluster over a real nats-server: three node processes (children of the
 * test) and the test's own system as a fourth node. Remote spawn, ask and
 * tell, names across nodes, refs that travel inside messages (through a
 * worker's gateway), per-sender order, a node killed with SIGKILL (nodeDown,
 * its pending asks failed typed), the same node restarted (a new
 * incarnation; old refs answer nodedown), and a node whose main thread is
 * busy for longer than the failure detector's limit, not declared down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import { kInternals, type ActorRef, type ActorSystem } from 'troupe';
import { createMetrics } from 'troupe/http';
import { startNats, startNatsCluster, type NatsServer } from '../bench/nats-server.js';
import { fixture, startSystem } from './helpers.js';
import { HashRing } from '../dist/src/cluster/ring.js';

const nodeScript = fileURLToPath(fixture('cluster-node'));
const echo = fixture('cluster-echo');
const reliableConsumer = fixture('cluster-reliable-consumer');
const watcherUrl = fixture('watcher');
const reliableSender = fixture('reliable-sender');
const timing = { heartbeatMs: 100, suspectAfterMs: 600, downAfterMs: 1500 };

interface NodeProcess {
  name: string;
  pid: number;
  proc: ChildProcess;
  lines: Interface;
  next(word: string): Promise<string>;
}

async function startNode(url: string, name: string, cluster = 'test'): Promise<NodeProcess> {
  const proc = spawn(process.execPath, [nodeScript, url, cluster, name, '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const waiting: { word: string; resolve: (line: string) => void }[] = [];
  lines.on('line', (line) => {
    const at = waiting.findIndex((w) => line.startsWith(w.word));
    if (at >= 0) waiting.splice(at, 1)[0].resolve(line);
  });
  const next = (word: string): Promise<string> => new Promise((resolve) => waiting.push({ word, resolve }));
  const ready = await next('ready');
  return { name, pid: Number(ready.split(' ')[1]), proc, lines, next };
}

/** Plain asks are at most once: one sent while a node is still reconnecting is lost, so ask again. */
async function askUntilAnswered(ref: ActorRef, msg: unknown): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ref.ask(msg, { timeoutMs: 2000 });
    } catch (error) {
      if ((error as { code?: string }).code !== 'TROUPE_ERR_ASK_TIMEOUT' || attempt === 10) throw error;
    }
  }
}

function kill9(node: NodeProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => node.proc.once('exit', () => resolve()));
  node.proc.kill('SIGKILL');
  return exited;
}

let nats: NatsServer;
let driver: ActorSystem;
const nodes = new Map<string, NodeProcess>();

beforeAll(async () => {
  nats = await startNats();
  driver = await startSystem({ workers: 1, cluster: { servers: nats.url, name: 'test', node: 'driver', ...timing } });
  const upAll = Promise.all(['n1', 'n2', 'n3'].map((n) => driver.cluster.events.waitFor('nodeUp', (e) => e.node === n, { timeoutMs: 20_000 })));
  for (const node of await Promise.all(['n1', 'n2', 'n3'].map((n) => startNode(nats.url, n)))) nodes.set(node.name, node);
  await upAll;
});

afterAll(async () => {
  await driver?.shutdown();
  for (const node of nodes.values()) if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGKILL');
  await nats?.stop();
});

describe('a cluster of processes over NATS', () => {
  it('sees every node, with its incarnation', () => {
    const seen = driver.cluster.nodes();
    expect(seen.map((n) => n.node).sort()).toEqual(['driver', 'n1', 'n2', 'n3']);
    expect(seen.find((n) => n.self)?.node).toBe('driver');
    for (const n of seen) expect(n.state).toBe('up');
    expect(new Set(seen.map((n) => n.incarnation)).size).toBe(4);
  });

  it('spawns on another node; the ref answers there, and the name is found from any node', async () => {
    const ref = await driver.spawn(echo, { node: 'n2', name: 'worker-7' });
    expect(ref.node).toBe('n2');
    const where = (await ref.ask({ type: 'where' })) as { pid: number; self: ActorRef };
    expect(where.pid).toBe(nodes.get('n2')!.pid);
    // The actor's own ref came back across the network and still points at it.
    expect(where.self.node).toBe('n2');
    expect(await where.self.ask({ type: 'echo', v: 'round trip' })).toBe('round trip');
    const found = await driver.cluster.lookup('worker-7');
    expect(found?.node).toBe('n2');
    expect(await found!.ask({ type: 'echo', v: 42 })).toBe(42);
    expect(await driver.cluster.lookup('no-such-name')).toBeUndefined();
    // Names registered by the nodes themselves, before the driver knew them.
    const onN3 = await driver.cluster.lookup('echo-n3');
    expect(((await onN3!.ask({ type: 'where' })) as { pid: number }).pid).toBe(nodes.get('n3')!.pid);
  });

  it('a ref inside a message reaches its actor from a third node, through a worker', async () => {
    const onN1 = await driver.spawn(echo, { node: 'n1' });
    const onN3 = await driver.spawn(echo, { node: 'n3' });
    // The actor on n1 runs on a worker thread: its ask to n3 goes through n1's gateway.
    const answer = (await onN1.ask({ type: 'via', to: onN3 })) as { from: number; where: { pid: number } };
    expect(answer.from).toBe(nodes.get('n1')!.pid);
    expect(answer.where.pid).toBe(nodes.get('n3')!.pid);
  });

  it('ctx.sender is the remote actor: a reply to a tell goes back across the network', async () => {
    const onN1 = await driver.spawn(echo, { node: 'n1' });
    const onN3 = await driver.spawn(echo, { node: 'n3' });
    onN1.tell({ type: 'greet', to: onN3 });
    let greeted: number[] = [];
    for (let i = 0; i < 200 && greeted.length === 0; i++) greeted = (await onN1.ask({ type: 'greeted' })) as number[];
    expect(greeted).toEqual([nodes.get('n3')!.pid]);
  });

  it('troupe/reliable across nodes: every message once, in order, through a NATS server restart', async () => {
    const consumer = await driver.spawn(reliableConsumer, { node: 'n2' });
    const producer = await driver.spawn(reliableSender, { node: 'n3', args: { consumer, resendAfterMs: Number(process.env.RESEND_MS ?? 200) } });
    // Accepted at once (the channel buffers them), carried a window at a time for a few hundred ms:
    // the server goes away while messages and acks are in flight.
    expect(await producer.ask({ type: 'send', count: 20_000 })).toBe(20_000);
    await nats.restart();
    expect(await askUntilAnswered(producer, { type: 'send', count: 1000 })).toBe(21_000);
    expect(await askUntilAnswered(producer, { type: 'drain' })).toEqual({ sent: 21_000, confirmed: 21_000 });
    const got = (await askUntilAnswered(consumer, { type: 'got' })) as number[];
    expect(got.length).toBe(21_000);
    expect(got.every((n, i) => n === i)).toBe(true);
    // The restart was shorter than the detector's limit: nobody was declared down.
    expect(driver.cluster.nodes().map((n) => n.node).sort()).toEqual(['driver', 'n1', 'n2', 'n3']);
  });

  it('ctx.watch across nodes: a watcher on a worker of n1 gets the down of an actor stopped on n2', async () => {
    const watcher = await driver.spawn(watcherUrl, { node: 'n1' });
    const target = await driver.spawn(echo, { node: 'n2' });
    expect(await watcher.ask({ type: 'watch', ref: target })).toBe(true);
    await driver.stop(target);
    expect(await watcher.ask({ type: 'downs', n: 1 }, { timeoutMs: 10_000 })).toEqual([{ id: target.id, reason: 'stopped' }]);
  });

  it('ctx.spawn with a node: the child runs there under its root, the spawner watches it (from a worker and from main)', async () => {
    for (const where of [{ node: 'n1' }, { host: 'main' as const }]) {
      const parent = await driver.spawn(watcherUrl, where);
      const child = (await parent.ask({ type: 'spawn-child', url: echo.href, node: 'n2' })) as ActorRef;
      expect(child.address?.node).toBe('n2');
      expect(((await child.ask({ type: 'where' })) as { pid: number }).pid).toBe(nodes.get('n2')!.pid);
      // Its node's root supervises it; its spawner learns of its end.
      await driver.stop(child);
      expect(await parent.ask({ type: 'downs', n: 1 }, { timeoutMs: 10_000 })).toEqual([{ id: child.id, reason: 'stopped' }]);
      // Its own node by name: an ordinary child, beside it (seen from the driver: a ref to n1's, or a local one).
      const local = (await parent.ask({ type: 'spawn-child', url: echo.href, node: where.node ?? 'driver' })) as ActorRef;
      expect(local.address?.node).toBe(where.node);
      expect(((await local.ask({ type: 'where' })) as { pid: number }).pid).toBe(where.node === undefined ? process.pid : nodes.get(where.node)!.pid);
    }
    // Without a cluster, typed.
    await using alone = await startSystem({ workers: 1 });
    const lonely = await alone.spawn(watcherUrl);
    await expect(lonely.ask({ type: 'spawn-child', url: echo.href, node: 'n2' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_CRASHED' });
  });

  it('keeps per-sender order across nodes and delivers every tell', async () => {
    const ref = await driver.spawn(echo, { node: 'n1' });
    const count = 5000;
    for (let seq = 0; seq < count; seq++) ref.tell({ type: 'seq', seq });
    const seen = (await ref.ask({ type: 'seen' }, { timeoutMs: 20_000 })) as number[];
    expect(seen.length).toBe(count);
    expect(seen.every((v, i) => v === i)).toBe(true);
    // 5,000 tells in a synchronous loop go in a few frames, not 5,000 NATS messages.
    const stats = driver.stats().cluster!;
    expect(stats).toMatchObject({ node: 'driver', members: 3, unreachable: 0, framesDropped: 0 });
    expect(stats.recordsSent).toBeGreaterThan(count);
    expect(stats.framesSent).toBeLessThan(stats.recordsSent / 10);
    const metrics = await createMetrics(driver, { defaultMetrics: false }).scrape();
    expect(metrics).toMatch(/^troupe_cluster_members 3$/m);
    expect(metrics).toMatch(/^troupe_cluster_records_sent_total \d+$/m);
  });

  it('an actor error crosses as a typed error; unknown nodes and actors fail fast', async () => {
    const ref = await driver.spawn(echo, { node: 'n2' });
    await driver.stop(ref);
    await expect(ref.ask({ type: 'echo', v: 1 }, { timeoutMs: 3000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
    const started = performance.now();
    await expect(driver.spawn(echo, { node: 'nowhere' })).rejects.toMatchObject({ code: 'TROUPE_ERR_NODE_DOWN' });
    expect(performance.now() - started).toBeLessThan(3000);
    await expect(driver.spawn(new URL('file:///no/such/module.js'), { node: 'n2' })).rejects.toMatchObject({ code: 'TROUPE_ERR_MODULE_LOAD' });
  });

  it('entities live on the node the ring gives their key, in order per sender', async () => {
    const ring = new HashRing(['driver', 'n1', 'n2', 'n3']);
    const pidOf = (node: string): number => (node === 'driver' ? process.pid : nodes.get(node)!.pid);
    const owners = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const ref = driver.entity(echo, `k${i}`);
      const owner = ring.owner(ref.persistenceId)!;
      owners.add(owner);
      expect(((await ref.ask({ type: 'where' })) as { pid: number }).pid).toBe(pidOf(owner));
      // In order with every other message to it, wherever it runs.
      for (let seq = 0; seq < 50; seq++) ref.tell({ type: 'seq', seq });
      expect(await ref.ask({ type: 'seen' })).toEqual(Array.from({ length: 50 }, (_, s) => s));
    }
    expect(owners.size).toBe(4);
  });

  it('junk on a node\'s subjects is dropped and logged; the node goes on serving', async () => {
    const n1 = driver.cluster.nodes().find((n) => n.node === 'n1')!;
    const raw = await connect({ servers: nats.url });
    const packr = new Packr({ useRecords: false });
    const subject = `troupe.test.n.n1.${n1.incarnation}`;
    raw.publish(subject, new Uint8Array([0xc1, 0xff, 0x00]));
    raw.publish(subject, packr.pack(['driver', 1, n1.incarnation, [[4, 7, { code: 'X', name: 'E', message: 'm', cause: null }]]]));
    raw.publish(subject, packr.pack(['driver', 1, n1.incarnation, [[5, 0, [{ module: 'file:///nowhere.js', export: 'default', key: 'k', type: 't', idleMs: 1 }, 1]]]]));
    raw.publish('troupe.test.ctl.n1', packr.pack({ op: 'spawn', url: 5 }));
    raw.publish('troupe.test.hb', new Uint8Array([0xc1]));
    await raw.flush();
    await raw.close();
    const ref = await driver.cluster.lookup('echo-n1');
    expect(await ref!.ask({ type: 'echo', v: 'still here' })).toBe('still here');
    expect(driver.cluster.nodes().find((n) => n.node === 'n1')?.incarnation).toBe(n1.incarnation);
  });

  it('ctx.stop of another node\'s actor is refused, typed; a payload no frame carries too', async () => {
    const onN1 = await driver.spawn(echo, { node: 'n1' });
    const onN2 = await driver.spawn(echo, { node: 'n2' });
    expect(await onN1.ask({ type: 'stop-it', ref: onN2 })).toBe('TROUPE_ERR_INVALID_ARGUMENT');
    expect(await onN1.ask({ type: 'spawn-on', node: 'no-such-node' })).toMatch(/^TROUPE_ERR_/);
    expect(await onN2.ask({ type: 'echo', v: 'not stopped' })).toBe('not stopped');
    // A node whose lanes take 4 MiB messages: one over NATS's 1 MiB max_payload is refused at the sender.
    await using big = await startSystem({ workers: 0, laneBytes: 4 * 1024 * 1024, cluster: { servers: nats.url, name: 'test', node: 'big', ...timing } });
    await big.cluster.whenUp('n1');
    const far = (await big.cluster.lookup('echo-n1'))!;
    expect(() => far.tell({ type: 'echo', v: new Uint8Array(1536 * 1024) })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_PAYLOAD_TOO_LARGE' }));
    // Three of 700 KiB in one run go in three frames, and the next ask is answered.
    for (let i = 0; i < 3; i++) far.tell({ type: 'seq', seq: -1, pad: new Uint8Array(700 * 1024) });
    expect(await far.ask({ type: 'echo', v: 'after the big ones' })).toBe('after the big ones');
  });

  it('a node whose main thread is busy past the detector limit is not declared down', async () => {
    const n1 = nodes.get('n1')!;
    let downs = 0;
    const off = driver.cluster.events.on('nodeDown', (e) => e.node === 'n1' && downs++);
    const unblocked = n1.next('unblocked');
    n1.proc.stdin!.write(`block ${timing.downAfterMs * 2}\n`);
    await unblocked;
    // The busy main thread answers again once free.
    const ref = await driver.cluster.lookup('echo-n1');
    expect(await ref!.ask({ type: 'echo', v: 'awake' })).toBe('awake');
    off();
    expect(downs).toBe(0);
    expect(driver.cluster.nodes().find((n) => n.node === 'n1')?.state).toBe('up');
  });

  it('kill -9 of a node: nodeDown, its pending asks fail typed; restarted, it is a new incarnation', async () => {
    const n3 = nodes.get('n3')!;
    const ref = await driver.spawn(echo, { node: 'n3', name: 'doomed' });
    // Watched from n1 (a worker, through its gateway) and from the driver's main thread.
    const watcher = await driver.spawn(watcherUrl, { node: 'n1' });
    expect(await watcher.ask({ type: 'watch', ref })).toBe(true);
    const mainWatcher = await driver.spawn(watcherUrl, { host: 'main' });
    expect(await mainWatcher.ask({ type: 'watch', ref })).toBe(true);
    // A child n1 spawned on n3 with ctx.spawn: its spawner hears nodedown too.
    const parent = await driver.spawn(watcherUrl, { node: 'n1' });
    const child = (await parent.ask({ type: 'spawn-child', url: echo.href, node: 'n3' })) as ActorRef;
    const before = driver.cluster.nodes().find((n) => n.node === 'n3')!.incarnation;
    const pending = ref.ask({ type: 'never' }, { timeoutMs: 30_000 });
    const down = driver.cluster.events.waitFor('nodeDown', (e) => e.node === 'n3', { timeoutMs: 10_000 });
    const killedAt = performance.now();
    await kill9(n3);
    const event = await down;
    expect(event.reason).toBe('silent');
    expect(event.incarnation).toBe(before);
    await expect(pending).rejects.toMatchObject({ code: 'TROUPE_ERR_NODE_DOWN' });
    expect(await watcher.ask({ type: 'downs', n: 1 }, { timeoutMs: 10_000 })).toEqual([{ id: ref.id, reason: 'nodedown' }]);
    expect(await mainWatcher.ask({ type: 'downs', n: 1 }, { timeoutMs: 10_000 })).toEqual([{ id: ref.id, reason: 'nodedown' }]);
    expect(await parent.ask({ type: 'downs', n: 1 }, { timeoutMs: 10_000 })).toEqual([{ id: child.id, reason: 'nodedown' }]);
    // Detected by silence, well before the ask's own 30 s timeout.
    expect(performance.now() - killedAt).toBeLessThan(10_000);
    await expect(ref.ask({ type: 'echo', v: 1 })).rejects.toMatchObject({ code: 'TROUPE_ERR_NODE_DOWN' });
    expect(driver.cluster.nodes().map((n) => n.node)).not.toContain('n3');
    // n3's entities answer from the survivors, the ring over the three that are left.
    const survivors = new HashRing(['driver', 'n1', 'n2']);
    const full = new HashRing(['driver', 'n1', 'n2', 'n3']);
    const moved = Array.from({ length: 24 }, (_, i) => `k${i}`).filter((k) => full.owner(`cluster-echo/${k}`) === 'n3');
    expect(moved.length).toBeGreaterThan(0);
    for (const key of moved) {
      const owner = survivors.owner(`cluster-echo/${key}`)!;
      const where = (await driver.entity(echo, key).ask({ type: 'where' })) as { pid: number };
      expect(where.pid).toBe(owner === 'driver' ? process.pid : nodes.get(owner)!.pid);
    }
    // Within the target of 3 s from the kill (detection takes downAfterMs, 1.5 s here).
    expect(performance.now() - killedAt).toBeLessThan(3000);

    const up = driver.cluster.events.waitFor('nodeUp', (e) => e.node === 'n3', { timeoutMs: 20_000 });
    nodes.set('n3', await startNode(nats.url, 'n3'));
    const rejoined = await up;
    expect(rejoined.incarnation).not.toBe(before);
    // The old ref names the old incarnation: it answers nodedown, never the newcomer.
    await expect(ref.ask({ type: 'echo', v: 1 })).rejects.toMatchObject({ code: 'TROUPE_ERR_NODE_DOWN' });
    const fresh = await driver.spawn(echo, { node: 'n3' });
    expect(((await fresh.ask({ type: 'where' })) as { pid: number }).pid).toBe(nodes.get('n3')!.pid);
    // Its keys are n3's again once it is back on the ring.
    const back = new HashRing(['driver', 'n1', 'n2', 'n3']);
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => back.owner(`cluster-echo/${k}`) === 'n3')!;
    expect(((await driver.entity(echo, key).ask({ type: 'where' })) as { pid: number }).pid).toBe(nodes.get('n3')!.pid);
  });

  it('a node that shuts down says so: nodeDown with reason left, at once', async () => {
    const n2 = nodes.get('n2')!;
    const down = driver.cluster.events.waitFor('nodeDown', (e) => e.node === 'n2', { timeoutMs: 10_000 });
    n2.proc.stdin!.write('quit\n');
    expect((await down).reason).toBe('left');
  });

  it('a partition: each side declares the other down and goes on alone; a restarted node rejoins', async () => {
    const echoN1 = (await driver.cluster.lookup('echo-n1'))!;
    const downs = Promise.all(['n1', 'n3'].map((n) => driver.cluster.events.waitFor('nodeDown', (e) => e.node === n, { timeoutMs: 10_000 })));
    driver[kInternals].isolateNode(true);
    expect((await downs).map((e) => e.reason)).toEqual(['silent', 'silent']);
    await expect(echoN1.ask({ type: 'echo', v: 1 })).rejects.toMatchObject({ code: 'TROUPE_ERR_NODE_DOWN' });
    // This side goes on alone.
    const local = await driver.spawn(echo, { host: 'main' });
    expect(await local.ask({ type: 'echo', v: 'alone' })).toBe('alone');
    driver[kInternals].isolateNode(false);
    // Healed: n3's heartbeats arrive again, from an incarnation this side declared down: ignored. n1 restarts and is a
    // new incarnation, welcome on both sides.
    nodes.get('n1')!.proc.kill('SIGKILL');
    const up = driver.cluster.events.waitFor('nodeUp', (e) => e.node === 'n1', { timeoutMs: 20_000 });
    nodes.set('n1', await startNode(nats.url, 'n1'));
    const rejoined = await up;
    expect(driver.cluster.nodes().map((n) => n.node)).toEqual(['driver', 'n1']);
    const fresh = (await driver.cluster.lookup('echo-n1'))!;
    expect(fresh.address!.incarnation).toBe(rejoined.incarnation);
    expect(await fresh.ask({ type: 'echo', v: 'back' })).toBe('back');
  });
});

describe('a cluster on a 3-server NATS cluster', () => {
  it('each server killed in turn: the nodes move to another server, a reliable channel loses nothing, nobody is declared down', async () => {
    const servers = await startNatsCluster(3);
    const options = { servers: servers.urls, name: 'failover', ...timing };
    await using system = await startSystem({ workers: 1, cluster: { ...options, node: 'd' } });
    const child = await startNode(servers.urls.join(','), 'f1', 'failover');
    try {
      await system.cluster.whenUp('f1', { timeoutMs: 20_000 });
      let downs = 0;
      const off = system.cluster.events.on('nodeDown', () => downs++);
      const consumer = await system.spawn(reliableConsumer, { node: 'f1' });
      const producer = await system.spawn(reliableSender, { args: { consumer, resendAfterMs: 200 } });
      let sent = 0;
      for (let i = 0; i < 3; i++) {
        sent = (await askUntilAnswered(producer, { type: 'send', count: 5000 })) as number;
        // Whichever server each node is on, one of these kills moves it.
        await servers.restart(i);
      }
      expect(await askUntilAnswered(producer, { type: 'drain' })).toEqual({ sent, confirmed: sent });
      const got = (await askUntilAnswered(consumer, { type: 'got' })) as number[];
      expect(got.length).toBe(sent);
      expect(got.every((n, i) => n === i)).toBe(true);
      off();
      expect(downs).toBe(0);
    } finally {
      child.proc.kill('SIGKILL');
      await servers.stop();
    }
  });
});

describe('cluster options and servers', () => {
  it('refuses bad options, typed', async () => {
    await expect(startSystem({ cluster: { servers: '', name: 'x' } })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', option: 'cluster.servers' });
    await expect(startSystem({ cluster: { servers: 'nats://127.0.0.1:1', name: 'a.b' } })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', option: 'cluster.name' });
    await expect(startSystem({ cluster: { servers: 'nats://127.0.0.1:1', name: 'x', heartbeatMs: 0 } })).rejects.toMatchObject({ option: 'cluster.heartbeatMs' });
    await expect(startSystem({ cluster: { servers: 'nats://127.0.0.1:1', name: 'x', bogus: 1 } as never })).rejects.toMatchObject({ option: 'cluster.bogus' });
  });

  it('a server that asks for credentials: the right ones join, wrong or missing ones fail the start typed', async () => {
    const guarded = await startNats(['--user', 'troupe', '--pass', 's3cret']);
    try {
      const base = { servers: guarded.url, name: 'auth', connectTimeoutMs: 2000 };
      await using system = await startSystem({ workers: 0, cluster: { ...base, node: 'a', user: 'troupe', pass: 's3cret' } });
      expect(system.cluster.nodes()[0].node).toBe('a');
      await expect(startSystem({ workers: 0, cluster: { ...base, node: 'b', user: 'troupe', pass: 'wrong' } })).rejects.toMatchObject({ code: 'TROUPE_ERR_CLUSTER_UNAVAILABLE' });
      await expect(startSystem({ workers: 0, cluster: { ...base, node: 'c' } })).rejects.toMatchObject({ code: 'TROUPE_ERR_CLUSTER_UNAVAILABLE' });
      await expect(startSystem({ cluster: { ...base, token: '' } })).rejects.toMatchObject({ option: 'cluster.token' });
    } finally {
      await guarded.stop();
    }
  });

  it('a node whose server is gone for good still shuts down, and its process ends', async () => {
    const lonely = await startNats();
    const proc = spawn(process.execPath, [fileURLToPath(fixture('cluster-exit')), lonely.url], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const lines = createInterface({ input: proc.stdout! });
    const said: string[] = [];
    lines.on('line', (line) => said.push(line));
    await new Promise<void>((resolve) => lines.on('line', (line) => line === 'ready' && resolve()));
    await lonely.stop();
    proc.stdin!.write('stop\n');
    // The client would try to reconnect for ever: the shutdown bounds its drain and closes it.
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    expect(await exited).toBe(0);
    clearTimeout(timer);
    expect(said).toContain('stopped stopped');
  });

  it('an unreachable server fails the start with TROUPE_ERR_CLUSTER_UNAVAILABLE', async () => {
    await expect(startSystem({ cluster: { servers: 'nats://127.0.0.1:1', name: 'x', connectTimeoutMs: 1000 } })).rejects.toMatchObject({ code: 'TROUPE_ERR_CLUSTER_UNAVAILABLE' });
  });

  it('a system without the cluster option says so when asked for its cluster or a remote spawn', async () => {
    await using system = await startSystem({ workers: 0 });
    expect(() => system.cluster).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    await expect(system.spawn(echo, { node: 'n1' })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT' });
  });
});
