import { describe, expect, it } from 'vitest';
import { Packr, Unpackr } from 'msgpackr';
import type { ActorRef, ActorSystem } from 'troupe';
import { Chaos } from 'troupe/chaos';
import { fixture, startSystem } from './helpers.js';
import { decodeAck, decodeData, encodeAck, encodeData } from '../src/reliable/protocol.js';

type Entry = [incarnation: number, n: number];

/**
 * What the consumer's handler saw, against the guarantee: per incarnation no
 * duplicate and strictly increasing order; across incarnations every number
 * from 0 to total - 1 at least once (messages handled by an incarnation that
 * died before its ack left may be handled again by the next: `redelivered`).
 */
function audit(entries: Entry[], total: number) {
  const last = new Map<number, number>();
  const seenBy = new Map<number, Set<number>>();
  let duplicated = 0;
  let outOfOrder = 0;
  for (const [inc, n] of entries) {
    const seen = seenBy.get(inc) ?? new Set<number>();
    seenBy.set(inc, seen);
    if (seen.has(n)) duplicated++;
    else if (n < (last.get(inc) ?? -1)) outOfOrder++;
    seen.add(n);
    last.set(inc, Math.max(n, last.get(inc) ?? -1));
  }
  const all = new Set(entries.map(([, n]) => n));
  let lost = 0;
  for (let n = 0; n < total; n++) if (!all.has(n)) lost++;
  const unexpected = [...all].filter((n) => !(Number.isInteger(n) && n >= 0 && n < total)).length;
  return { lost, duplicated, outOfOrder, unexpected, incarnations: seenBy.size, redelivered: entries.length - all.size - duplicated };
}

/** Polls `condition` (a shared-memory read, not a sleep in disguise: it returns as soon as it holds). */
async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A producer on worker 0, a consumer on worker 1, and a ledger of deliveries on main (its lanes are never faulted here). */
async function channel(system: ActorSystem, senderArgs: Record<string, unknown> = {}) {
  const ledger = await system.spawn(fixture('ledger'), { host: 'main' });
  const receiver = await system.spawn(fixture('reliable-receiver'), { host: 1, args: { ledger } });
  const sender = await system.spawn(fixture('reliable-sender'), { host: 0, args: { consumer: receiver, ...senderArgs } });
  const send = (count: number) => sender.ask({ type: 'send', count }) as Promise<number>;
  const drain = () => sender.ask({ type: 'drain' }, { timeoutMs: 120_000 }) as Promise<{ sent: number; confirmed: number }>;
  const entries = (distinct: number) => ledger.ask({ type: 'read', distinct }, { timeoutMs: 120_000 }) as Promise<Entry[]>;
  return { ledger, receiver, sender: sender as ActorRef, send, drain, entries };
}

describe('troupe/reliable', () => {
  it('frames survive every single-bit flip as "damaged", never as another valid frame', () => {
    const packr = new Packr({ useRecords: false });
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    const frames = [
      encodeData({ channel: '', session: 123456, seq: 42, base: 40, payload: { n: 41, text: 'héllo', list: [1, 2.5, true, null] } }),
      encodeAck({ channel: 'jobs', session: 99, upTo: 1000, flags: 1 }),
    ];
    for (const frame of frames) {
      const bytes = packr.pack(frame);
      const decode = (b: Uint8Array) => {
        try {
          const value = unpackr.unpack(b) as unknown;
          if (!Array.isArray(value)) return undefined;
          return decodeData(value) ?? decodeAck(value);
        } catch {
          return undefined;
        }
      };
      expect(decode(bytes)).toBeDefined();
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = Uint8Array.from(bytes);
        flipped[bit >> 3] ^= 1 << (bit & 7);
        expect(decode(flipped), `bit ${bit}`).toBeUndefined();
      }
    }
  });

  it('delivers everything once and in order without faults', async () => {
    await using system = await startSystem();
    const c = await channel(system);
    await c.send(3000);
    expect(await c.drain()).toEqual({ sent: 3000, confirmed: 3000 });
    const report = audit(await c.entries(3000), 3000);
    expect(report).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0, incarnations: 1, redelivered: 0 });
  });

  it('loses and duplicates nothing over links that drop, duplicate, delay and corrupt records both ways', async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system, { seed: 11 });
    const c = await channel(system);
    const faults = { dropRate: 0.15, duplicateRate: 0.15, corruptRate: 0.05, delayMs: 2, jitterMs: 4 };
    chaos.link(0, 1, faults);
    chaos.link(1, 0, faults);
    await c.send(2000);
    await c.drain();
    chaos.healAll();
    const report = audit(await c.entries(2000), 2000);
    expect(report).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0, incarnations: 1, redelivered: 0 });
    const injected = system.stats().hosts.map((h) => h.faults);
    expect(injected[1].dropped + injected[2].dropped).toBeGreaterThan(100);
    expect(injected[1].duplicated + injected[2].duplicated).toBeGreaterThan(100);
    expect(injected[1].corrupted + injected[2].corrupted).toBeGreaterThan(20);
  });

  it('holds messages across a partition and delivers them once it heals', async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system, { seed: 5 });
    const c = await channel(system, { resendAfterMs: 50 });
    await c.send(300);
    // every ack in before the cut: one still in flight would be lost in it and count as unconfirmed
    expect(await c.drain()).toMatchObject({ sent: 300, confirmed: 300 });
    chaos.partition([[0], [1]]);
    await c.send(300);
    // the 300 sent into the cut, then at least two timed-out resends
    await until(() => system.stats().hosts[1].faults.dropped >= 302, 'resends into the partition');
    const status = (await c.sender.ask({ type: 'status' })) as { unconfirmed: number };
    expect(status.unconfirmed).toBe(300);
    chaos.heal();
    await c.send(300);
    expect(await c.drain()).toMatchObject({ sent: 900, confirmed: 900 });
    const report = audit(await c.entries(900), 900);
    expect(report).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0, incarnations: 1, redelivered: 0 });
  });

  it('a consumer crash: the new incarnation gets everything not yet confirmed, in order, once', async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system);
    const c = await channel(system);
    await c.send(1000);
    await c.entries(400);
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === c.receiver.id);
    chaos.crashActor(c.receiver);
    await c.send(1000);
    await restarted;
    await c.send(1000);
    await c.drain();
    const report = audit(await c.entries(3000), 3000);
    expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0, incarnations: 2 });
  });

  it("a worker kill under the consumer: its replacement's consumer resumes from what was confirmed", async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system);
    const c = await channel(system);
    await c.send(1000);
    await c.entries(300);
    const replaced = system.events.waitFor('worker.replaced', (e) => e.host === 1, { timeoutMs: 60_000 });
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === c.receiver.id, { timeoutMs: 60_000 });
    await chaos.killWorker(1);
    await c.send(1000);
    await replaced;
    await restarted;
    await c.send(1000);
    await c.drain();
    const report = audit(await c.entries(3000), 3000);
    expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0, incarnations: 2 });
  });

  it('a restarted producer starts a new session; the consumer drops what is left of the old one', async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system);
    const c = await channel(system);
    await c.send(500);
    await c.drain();
    const before = (await c.sender.ask({ type: 'status' })) as { session: number };
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === c.sender.id);
    chaos.crashActor(c.sender);
    await c.sender.ask({ type: 'status' }).catch(() => undefined);
    await restarted;
    const after = (await c.sender.ask({ type: 'status' })) as { session: number; sent: number };
    expect(after.session).not.toBe(before.session);
    expect(after.sent).toBe(0);
    await c.send(500);
    await c.drain();
    // the new session numbers from 0 again: 1000 deliveries, two runs of 0..499, each once and in order
    const entries = await c.ledger.ask({ type: 'read', n: 1000 }, { timeoutMs: 60_000 }) as Entry[];
    expect(entries.map(([, n]) => n)).toEqual([...Array(500).keys(), ...Array(500).keys()]);
  });

  it('validates its arguments and refuses sends past bufferLimit', async () => {
    const { reliableProducer, reliable } = await import('troupe/reliable');
    const fakeCtx = { tell: () => true, sender: undefined } as never;
    expect(() => reliableProducer(fakeCtx, {} as never)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    expect(() => reliable({} as never)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    await using system = await startSystem({ workers: 1 });
    const ledger = await system.spawn(fixture('ledger'), { host: 'main' });
    expect(() => reliableProducer(fakeCtx, ledger, { window: 0 })).toThrowError(/window/);
    const out = reliableProducer(fakeCtx, ledger, { window: 2, bufferLimit: 3 });
    out.send({ a: 1 });
    out.send({ a: 2 });
    out.send({ a: 3 });
    expect(out.unconfirmed).toBe(3);
    expect(() => out.send({ a: 4 })).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_RELIABLE_BUFFER_FULL' }));
    // a message that waits for the window is validated at once, as tell would
    const narrow = reliableProducer(fakeCtx, ledger, { window: 1 });
    narrow.send({ a: 1 });
    expect(() => narrow.send({ f: () => 1 } as never)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' }));
    expect(narrow.unconfirmed).toBe(1);
    out.close();
    narrow.close();
  });
});
