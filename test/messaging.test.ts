import { describe, expect, it } from 'vitest';
import { isActorRef, type ActorRef } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

describe('messaging across threads', () => {
  it('tells and asks across workers, from main and from actor to actor', async () => {
    await using system = await startSystem();
    const echo = await system.spawn(actor('echo'), { host: 1 });
    const relay = await system.spawn(fixture('relay'), { host: 0 });
    expect(await echo.ask({ hello: 'world', n: [1, 2, 3] })).toEqual({ hello: 'world', n: [1, 2, 3] });
    // relay on worker 0 asks echo on worker 1 and replies with its answer
    expect(await relay.ask({ type: 'ask-via', ref: echo, msg: { deep: { x: 1n } } })).toEqual({ deep: { x: 1n } });
    const stats = system.stats();
    expect(stats.hosts[1].messagesIn + stats.hosts[2].messagesIn).toBeGreaterThanOrEqual(3);
  });

  it('keeps per-sender FIFO order with three senders on three hosts', async () => {
    await using system = await startSystem();
    const recorder = await system.spawn(fixture('recorder'), { host: 1 });
    const floodA = await system.spawn(fixture('flooder'), { host: 0 });
    const floodMain = await system.spawn(fixture('flooder'), { host: 'main' });
    const floodB = await system.spawn(fixture('flooder'), { host: 1 });
    const n = 20_000;
    const done = await Promise.all([
      floodA.ask({ type: 'flood', target: recorder, from: 'w0', n }),
      floodMain.ask({ type: 'flood', target: recorder, from: 'main', n }),
      floodB.ask({ type: 'flood', target: recorder, from: 'w1-local', n }),
      // and plain main-thread code as a fourth sender
      (async () => {
        for (let seq = 0; seq < n; seq++) {
          if (!recorder.tell({ from: 'outside', seq })) await new Promise((resolve) => setImmediate(resolve));
        }
        return { sent: n };
      })(),
    ]);
    expect(done.map((d) => (d as { sent: number }).sent)).toEqual([n, n, n, n]);
    const report = (await recorder.ask({ type: 'report', total: 4 * n })) as { counts: Record<string, number>; outOfOrder: number };
    expect(report.outOfOrder).toBe(0);
    expect(report.counts).toEqual({ w0: n, main: n, 'w1-local': n, outside: n });
  });

  it('sends refs inside messages and replies; the receiver gets a live ref on any host', async () => {
    await using system = await startSystem();
    const counter = await system.spawn(actor('counter'), { host: 1, name: 'shared-counter' });
    const relayW0 = await system.spawn(fixture('relay'), { host: 0 });
    const relayMain = await system.spawn(fixture('relay'), { host: 'main' });
    // a ref travels main → worker 0, which tells it; then main → main
    await relayW0.ask({ type: 'tell-via', ref: counter, msg: { type: 'inc' } });
    await relayMain.ask({ type: 'tell-via', ref: counter, msg: { type: 'inc' } });
    expect(await relayW0.ask({ type: 'ask-via', ref: counter, msg: { type: 'get' } })).toBe(2);
    // a ref comes back in a reply and works from main
    const self = (await relayW0.ask({ type: 'whoami' })) as ActorRef;
    expect(isActorRef(self)).toBe(true);
    expect(self.id).toBe(relayW0.id);
    expect(await self.ask({ type: 'ask-via', ref: counter, msg: { type: 'get' } })).toBe(2);
    // names travel with refs; arrays of refs survive
    const refs = (await relayMain.ask({ type: 'refs', refs: [counter, relayW0] })) as { ids: number[]; names: (string | null)[] };
    expect(refs.ids).toEqual([counter.id, relayW0.id]);
    expect(refs.names).toEqual(['shared-counter', null]);
    // ctx.sender is the asking actor when an actor asks, undefined from outside
    expect(await relayMain.ask({ type: 'sender' })).toBeNull();
    const sender = (await relayW0.ask({ type: 'ask-via', ref: relayMain, msg: { type: 'sender' } })) as ActorRef;
    expect(sender.id).toBe(relayW0.id);
  });

  it('forwards through a router and gathers through an aggregator', async () => {
    await using system = await startSystem();
    const router = await system.spawn(actor('router'), { args: { module: actor('echo').href, size: 4 } });
    const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => router.ask({ n })));
    expect(answers).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ n })));
    const counters = await Promise.all([3, 5].map((start) => system.spawn(actor('counter'), { args: { start } })));
    const aggregator = await system.spawn(actor('aggregator'), { host: 'main' });
    const gathered = await aggregator.ask({ type: 'gather', refs: counters, msg: { type: 'get' } });
    expect(gathered).toEqual([{ ok: true, value: 3 }, { ok: true, value: 5 }]);
  });

  it('delivers same-host messages without encoding but with the same semantics', async () => {
    await using system = await startSystem({ workers: 0 });
    const counter = await system.spawn(actor('counter'));
    const relay = await system.spawn(fixture('relay'));
    expect(system.hostOf(counter)).toBe('main');
    for (let i = 0; i < 1000; i++) counter.tell({ type: 'inc' });
    expect(await relay.ask({ type: 'ask-via', ref: counter, msg: { type: 'get' } })).toBe(1000);
    const recorder = await system.spawn(fixture('recorder'));
    const flooder = await system.spawn(fixture('flooder'));
    await flooder.ask({ type: 'flood', target: recorder, from: 'local', n: 10_000 });
    expect(await recorder.ask({ type: 'report', total: 10_000 })).toEqual({ counts: { local: 10_000 }, outOfOrder: 0 });
  });

  it('answers later with deferReply, after other messages', async () => {
    await using system = await startSystem();
    const sink = await system.spawn(actor('sink'), { host: 0 });
    const expectation = sink.ask({ type: 'expect', n: 500 });
    for (let i = 0; i < 500; i++) sink.tell(i);
    expect(await expectation).toBe(500);
    expect(await sink.ask({ type: 'count' })).toBe(500);
  });
});

describe('correlation ids', () => {
  it('follow a request through every ask and tell it causes, across hosts, and after awaits', async () => {
    await using system = await startSystem();
    const [a, b, c] = await Promise.all([
      system.spawn(fixture('tracer'), { host: 0 }),
      system.spawn(fixture('tracer'), { host: 1 }),
      system.spawn(fixture('tracer'), { host: 'main' }),
    ]);
    expect(await a.ask({ type: 'chain', rest: [b, c] }, { correlationId: 42 })).toEqual([42, 42, 42]);
    expect(await a.ask({ type: 'chain', rest: [b] })).toEqual([null, null]);
    await a.ask({ type: 'tell-on', to: b }, { correlationId: 7 });
    c.tell({ type: 'remember' }, { correlationId: 9 });
    expect(await b.ask({ type: 'remembered', n: 1 })).toEqual([7]);
    expect(await c.ask({ type: 'remembered', n: 1 })).toEqual([9]);
    const dead = system.events.waitFor('deadLetter', (e) => e.reason === 'no-actor');
    await system.stop(c);
    c.tell({ type: 'remember' }, { correlationId: 99 });
    expect(await dead).toMatchObject({ correlationId: 99 });
    expect(() => a.tell({ type: 'remember' }, { correlationId: 0 })).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    expect(() => a.ask({ type: 'remembered', n: 0 }, { correlationId: 2 ** 32 })).toThrowError(/correlationId/);
  });
});
