/**
 * troupe/reliable into a durable consumer on a real SQLite journal: the
 * consumer's position is committed with the events of each message, so a
 * redelivery after a crash or a worker's death is never applied twice, and a
 * new process never takes a dead one's positions for its own.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpack } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import type { ActorRef, ActorSystem } from 'troupe';
import { Chaos } from 'troupe/chaos';
import { sqliteStore } from 'troupe/persistence';
import { fixture, startSystem } from './helpers.js';

const kChild = fileURLToPath(new URL('../dist/test/fixtures/durable-reliable-child.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'troupe-reliable-durable-'));
let serial = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function channel(system: ActorSystem, crashAfterPersist: number[] = []) {
  const receiver = await system.spawn(fixture('durable-reliable-receiver'), { host: 1, name: 'durable-consumer', args: { crashAfterPersist } });
  const sender = await system.spawn(fixture('reliable-sender'), { host: 0, args: { consumer: receiver, resendAfterMs: 100 } });
  return {
    receiver,
    send: (count: number) => sender.ask({ type: 'send', count }) as Promise<number>,
    drain: () => sender.ask({ type: 'drain' }, { timeoutMs: 120_000 }) as Promise<{ sent: number; confirmed: number }>,
    applied: () => receiver.ask<number[]>({ type: 'applied' }, { timeoutMs: 30_000 }),
  };
}

/** Asks until the consumer's journaled state holds at least `n` (each ask is answered by the actor: no sleeping). */
async function appliedAtLeast(ask: () => Promise<number[]>, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await ask()).length < n) {
    if (Date.now() > deadline) throw new Error(`the consumer did not apply ${n} messages`);
  }
}

describe('troupe/reliable into a durable consumer', () => {
  it('a crash after persist, before the ack: the redelivery is dropped, every message applied once, in order', async () => {
    await using system = await startSystem({ store: sqliteStore({ path: join(dir, `crash-${++serial}.db`) }) });
    const c = await channel(system, [300, 700]);
    const restarts: number[] = [];
    system.events.on('actor.restarted', (e) => {
      if (e.id === c.receiver.id) restarts.push(e.id);
    });
    await c.send(1000);
    expect(await c.drain()).toMatchObject({ sent: 1000, confirmed: 1000 });
    expect(restarts).toHaveLength(2);
    expect(await c.applied()).toEqual(range(1000));
  });

  it("a worker's death under the consumer: its recovery from the journal (snapshot + tail) applies nothing twice", async () => {
    await using system = await startSystem({ store: sqliteStore({ path: join(dir, `kill-${++serial}.db`) }) });
    const chaos = new Chaos(system);
    const c = await channel(system);
    await c.send(1000);
    await appliedAtLeast(c.applied, 300);
    const replaced = system.events.waitFor('worker.replaced', (e) => e.host === 1, { timeoutMs: 60_000 });
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === c.receiver.id, { timeoutMs: 60_000 });
    await chaos.killWorker(1);
    await c.send(1000);
    await replaced;
    await restarted;
    await c.send(1000);
    expect(await c.drain()).toMatchObject({ sent: 3000, confirmed: 3000 });
    expect(await c.applied()).toEqual(range(3000));
  });

  it('each message costs one journal row (its position rides on its event); a plain message persists nothing; a restart replays the same state', async () => {
    const path = join(dir, `rows-${++serial}.db`);
    await using system = await startSystem({ store: sqliteStore({ path }) });
    const c = await channel(system);
    expect(await c.applied()).toEqual([]);
    await c.send(150);
    await c.drain();
    expect(await c.applied()).toEqual(range(150));
    // snapshotEvery is 100: with a row per mark it would have been taken at the 50th message, and again at the 100th.
    expect(snapshotsOf(path, 'durable-consumer').map((s) => s.seq)).toEqual([100]);
    await system.stop(c.receiver as ActorRef);
    const again = await system.spawn(fixture('durable-reliable-receiver'), { host: 0, name: 'durable-consumer' });
    expect(await again.ask({ type: 'applied' })).toEqual(range(150));
  });

  it('a new process whose producer draws the same session id again: every message is applied (a dead process\'s positions are not trusted)', async () => {
    const path = join(dir, `process-${++serial}.db`);
    const first = await runChild(path, 40);
    const second = await runChild(path, 40);
    // What makes the case: the same producer id and session in both processes.
    expect(second.sender).toBe(first.sender);
    expect(second.session).toBe(first.session);
    expect(first.drained).toEqual({ sent: 40, confirmed: 40 });
    expect(second.drained).toEqual({ sent: 40, confirmed: 40 });
    expect(first.applied).toEqual(range(40));
    expect(second.applied).toEqual([...range(40), ...range(40)]);
  });

  it('a durable actor wrapped in reliable() later recovers the journal and snapshot it wrote before', async () => {
    const path = join(dir, `wrapped-later-${++serial}.db`);
    await using system = await startSystem({ store: sqliteStore({ path }) });
    const before = await system.spawn(fixture('durable-reliable-receiver'), { export: 'unwrapped', name: 'durable-consumer' });
    for (const n of range(130)) before.tell({ n });
    expect(await before.ask({ type: 'applied' })).toEqual(range(130));
    expect(snapshotsOf(path, 'durable-consumer').map((s) => s.seq)).toEqual([100]);
    await system.stop(before);
    const c = await channel(system);
    expect(await c.applied()).toEqual(range(130));
    await c.send(20);
    await c.drain();
    expect(await c.applied()).toEqual([...range(130), ...range(20)]);
  });

  it('positions are bounded by positionsLimit: the channels whose session started longest ago are forgotten', async () => {
    const path = join(dir, `bounded-${++serial}.db`);
    await using system = await startSystem({ store: sqliteStore({ path }) });
    const receiver = await system.spawn(fixture('durable-reliable-receiver'), { export: 'bounded', host: 1, name: 'durable-consumer' });
    const senders: ActorRef[] = [];
    for (let i = 0; i < 4; i++) {
      const sender = await system.spawn(fixture('reliable-sender'), { host: 0, args: { consumer: receiver } });
      senders.push(sender);
      await sender.ask({ type: 'send', count: 30 });
      await sender.ask({ type: 'drain' }, { timeoutMs: 60_000 });
    }
    const [snapshot] = snapshotsOf(path, 'durable-consumer');
    expect(snapshot.seq).toBe(100);
    // At the 100th message the fourth sender's session had started: the first two were forgotten.
    const positions = (snapshot.state as { positions: Record<string, unknown> }).positions;
    expect(Object.keys(positions).map((key) => Number(key.split('/')[0]))).toEqual([senders[2].id, senders[3].id]);
  });
});

/** The snapshots of journal `pid`, oldest first, read from the SQLite file itself. */
function snapshotsOf(path: string, pid: string): { seq: number; state: unknown }[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT seq, data FROM troupe_snapshots WHERE pid = ? ORDER BY seq').all(pid) as { seq: number; data: Buffer }[];
    return rows.map((row) => ({ seq: row.seq, state: unpack(row.data) }));
  } finally {
    db.close();
  }
}

interface ChildRun {
  sender: number;
  session: number;
  drained: { sent: number; confirmed: number };
  applied: number[];
}

/** Runs one process of durable-reliable-child.ts to its end and returns what it printed. */
async function runChild(path: string, count: number): Promise<ChildRun> {
  const proc = spawn(process.execPath, [kChild, path, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(proc, 'exit')) as [number | null];
  expect(code).toBe(0);
  return JSON.parse(out.trim()) as ChildRun;
}
