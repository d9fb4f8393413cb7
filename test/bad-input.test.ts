import { describe, expect, it } from 'vitest';
import { ActorSystem, InvalidOptionError, kInternals, type DeadLetterEvent } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

describe('bad options', () => {
  it.each([
    [{ workers: -1 }, 'workers'],
    [{ workers: 1.5 }, 'workers'],
    [{ workers: '2' }, 'workers'],
    [{ laneBytes: 5000 }, 'laneBytes'],
    [{ laneBytes: 1024 }, 'laneBytes'],
    [{ askTimeoutMs: 0 }, 'askTimeoutMs'],
    [{ throughput: 0 }, 'throughput'],
    [{ logLevel: 'loud' }, 'logLevel'],
    [{ workerExecArgv: '--import tsx' }, 'workerExecArgv'],
    [{ wrokers: 2 }, 'wrokers'],
  ])('%j is refused naming %s', async (options, option) => {
    const error = await ActorSystem.start(options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', option });
    expect((error as Error).message).toContain(option);
  });
});

describe('messages that cannot be sent', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  class Point {
    x = 1;
  }
  const deep = JSON.parse('['.repeat(100) + ']'.repeat(100));
  it.each([
    ['a function', { f: () => 1 }, '.f'],
    ['a symbol', { s: Symbol('x') }, '.s'],
    ['a cycle', cyclic, 'cycle'],
    ['a huge BigInt', { n: 2n ** 70n }, 'BigInt'],
    ['a Map', { m: new Map() }, 'Map'],
    ['a class instance', [new Point()], 'Point'],
    ['a __proto__ key', JSON.parse('{"__proto__": {"polluted": true}}'), '__proto__'],
    ['nesting past maxMessageDepth', deep, 'deeper'],
  ])('%s throws TROUPE_ERR_UNENCODABLE synchronously, on the same host and across', async (_what, msg, hint) => {
    await using system = await startSystem();
    const remote = await system.spawn(actor('counter'), { host: 0 });
    const local = await system.spawn(actor('counter'), { host: 'main' });
    for (const ref of [remote, local]) {
      expect(() => ref.tell(msg)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' }));
      expect(() => ref.tell(msg)).toThrowError(hint);
      expect(() => ref.ask(msg)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' }));
    }
    // nothing reached either actor
    expect(await remote.ask({ type: 'get' })).toBe(0);
    expect(await local.ask({ type: 'get' })).toBe(0);
  });

  it('a payload larger than a lane can hold throws TROUPE_ERR_PAYLOAD_TOO_LARGE and loses nothing else', async () => {
    await using system = await startSystem({ laneBytes: 65536 });
    const sink = await system.spawn(actor('sink'), { host: 0 });
    sink.tell('before');
    expect(() => sink.tell({ blob: 'x'.repeat(40_000) })).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_PAYLOAD_TOO_LARGE' }));
    sink.tell({ fits: 'y'.repeat(30_000) });
    expect(await sink.ask({ type: 'expect', n: 2 })).toBe(2);
  });

  it('rejects bad ask options synchronously', async () => {
    await using system = await startSystem();
    const counter = await system.spawn(actor('counter'));
    expect(() => counter.ask({ type: 'get' }, { timeoutMs: -5 })).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    expect(() => counter.ask({ type: 'get' }, { timeoutMs: Number.NaN })).toThrowError(/timeoutMs/);
  });
});

describe('hostile records on a lane', () => {
  const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  const depthBomb = new Uint8Array(100_001).fill(0x91);
  depthBomb[100_000] = 0xc0;
  it.each([
    ['an invalid msgpack byte', hex('c1')],
    ['a depth bomb', depthBomb],
    ['a __proto__ key', hex('81a95f5f70726f746f5f5f81a16101')],
    ['an Error extension', hex('d46500')],
    ['a RegExp extension', hex('c7037861622b')],
    ['a truncated array', hex('dcffff01')],
    ['trailing bytes', hex('0102')],
    ['an empty payload', new Uint8Array(0)],
  ])('%s becomes a dead letter; the host and the other messages survive', async (_what, payload) => {
    await using system = await startSystem();
    const counter = await system.spawn(actor('counter'), { host: 0 });
    counter.tell({ type: 'inc' });
    const dead = system.events.waitFor('deadLetter', (e) => e.reason === 'decode-failed');
    system[kInternals].injectRecord(0, 'tell', counter.id, payload);
    expect(await dead).toMatchObject({ target: counter.id, error: { code: 'TROUPE_ERR_DECODE' } });
    counter.tell({ type: 'inc' });
    expect(await counter.ask({ type: 'get' })).toBe(2);
    expect(system.stats().hosts[1].decodeErrors).toBe(1);
  });

  it('a record whose frame is corrupt is reported and the lane resynchronises', async () => {
    await using system = await startSystem();
    const counter = await system.spawn(actor('counter'), { host: 1 });
    const dead = system.events.waitFor('deadLetter', (e) => e.reason === 'lane-corrupt');
    system[kInternals].injectRecord(1, 'tell', counter.id, hex('81a474797065a3696e63'), true);
    expect(await dead).toMatchObject({ error: { code: 'TROUPE_ERR_DECODE' } });
    counter.tell({ type: 'inc' });
    expect(await counter.ask({ type: 'get' })).toBe(1);
  });

  it('a record for an unknown actor is a dead letter; an ask for one is answered at once', async () => {
    await using system = await startSystem();
    const counter = await system.spawn(actor('counter'), { host: 0 });
    const dead = system.events.waitFor('deadLetter', (e: DeadLetterEvent) => e.reason === 'no-actor');
    system[kInternals].injectRecord(0, 'tell', 0x7fff_0000, hex('a568656c6c6f'));
    expect(await dead).toMatchObject({ target: 0x7fff_0000, message: 'hello' });
    expect(await counter.ask({ type: 'get' })).toBe(0);
  });
});

describe('backpressure', () => {
  it('a full lane holds records in a bounded overflow, then refuses with TROUPE_ERR_MAILBOX_FULL; everything accepted arrives', async () => {
    await using system = await startSystem({ laneBytes: 4096, overflowLimit: 50 });
    const sink = await system.spawn(actor('sink'), { host: 1 });
    const blocker = await system.spawn(fixture('crasher'), { host: 1 });
    const backpressure = system.events.waitFor('backpressure');
    // Blocks worker 1's thread, so nothing drains its lanes while we flood them.
    const slept = blocker.ask({ type: 'sleep', ms: 3000 }, { timeoutMs: 30_000 });
    let straight = 0;
    let held = 0;
    let refused: unknown;
    for (let i = 0; i < 10_000; i++) {
      try {
        if (sink.tell(i)) straight++;
        else held++;
      } catch (error) {
        refused = error;
        break;
      }
    }
    expect(refused).toMatchObject({ code: 'TROUPE_ERR_MAILBOX_FULL' });
    expect(held).toBe(50);
    expect(straight).toBeGreaterThan(0);
    expect(await backpressure).toMatchObject({ toHost: 1, target: sink.id, held: 50 });
    expect(system.stats().hosts[0].backpressure).toBe(1);
    await slept;
    expect(await sink.ask({ type: 'expect', n: straight + held })).toBe(straight + held);
    expect(await sink.ask({ type: 'count' })).toBe(straight + held);
  });

  it('a same-host mailbox past mailboxLimit refuses with TROUPE_ERR_MAILBOX_FULL', async () => {
    await using system = await startSystem({ mailboxLimit: 100 });
    const sink = await system.spawn(actor('sink'), { host: 'main' });
    for (let i = 0; i < 100; i++) sink.tell(i);
    expect(() => sink.tell(100)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_MAILBOX_FULL' }));
    // The mailbox drains once this test yields; until then even an ask is refused.
    let count: unknown;
    for (let turn = 0; count === undefined && turn < 1000; turn++) {
      try {
        count = await sink.ask({ type: 'count' });
      } catch (error) {
        expect(error).toMatchObject({ code: 'TROUPE_ERR_MAILBOX_FULL' });
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    expect(count).toBe(100);
    expect(system.stats().hosts[0].backpressure).toBeGreaterThanOrEqual(1);
  });
});
