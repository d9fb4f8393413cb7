/**
 * troupe/reliable into a durable consumer on a real SQLite journal: the
 * consumer's position is committed with the events of each message, so a
 * redelivery after a crash or a worker's death is never applied twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ActorRef, ActorSystem } from 'troupe';
import { Chaos } from 'troupe/chaos';
import { sqliteStore } from 'troupe/persistence';
import { fixture, startSystem } from './helpers.js';

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

  it('a plain message to a durable consumer goes to its behaviour without a position mark', async () => {
    await using system = await startSystem({ store: sqliteStore({ path: join(dir, `plain-${++serial}.db`) }) });
    const c = await channel(system);
    expect(await c.applied()).toEqual([]);
    await c.send(5);
    await c.drain();
    expect(await c.applied()).toEqual(range(5));
    // Restarted from the journal: 5 events and 5 marks replay to the same state.
    await system.stop(c.receiver as ActorRef);
    const again = await system.spawn(fixture('durable-reliable-receiver'), { host: 0, name: 'durable-consumer' });
    expect(await again.ask({ type: 'applied' })).toEqual(range(5));
  });
});
