import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, InvalidOptionError, type ActorRef } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

// Regressions of issue 18 (defects 7, 9, 10, 11): what a message may be must not depend on where its
// target runs. Every case is sent to an echo on the sender's own thread (no encoding) and to one on a
// worker (msgpack through a lane), and must get the same answer from both.

const unencodable = expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' });
const tooLarge = expect.objectContaining({ code: 'TROUPE_ERR_PAYLOAD_TOO_LARGE' });

describe('one decision and one value on every host', () => {
  let system: ActorSystem;
  let targets: [string, ActorRef][];
  let limit: number;
  beforeAll(async () => {
    system = await startSystem({ workers: 1 });
    const same = await system.spawn(actor('echo'), { host: 'main' });
    const across = await system.spawn(actor('echo'), { host: 0 });
    targets = [['same thread', same], ['across threads', across]];
    // The largest payload, as the runtime words it (half a lane less a record header).
    const error = (() => {
      try {
        across.tell('x'.repeat(1 << 20));
      } catch (e) {
        return e as Error;
      }
    })();
    limit = Number(/at most (\d+)/.exec(error?.message ?? '')?.[1]);
    expect(limit).toBeGreaterThan(100_000);
  });
  afterAll(() => system.shutdown());

  it('an Invalid Date round-trips as an Invalid Date (it was a decode error across threads)', async () => {
    for (const [, ref] of targets) {
      const reply = (await ref.ask({ at: new Date(Number.NaN), ok: new Date(0) })) as { at: Date; ok: Date };
      expect(reply.at).toBeInstanceOf(Date);
      expect(reply.at.getTime()).toBeNaN();
      expect(reply.ok.getTime()).toBe(0);
    }
  });

  it('an object that only inherits from Date or Uint8Array is refused, not taken for one', () => {
    for (const fake of [Object.create(Date.prototype), Object.create(Uint8Array.prototype)]) {
      for (const [, ref] of targets) expect(() => ref.tell({ fake })).toThrowError(unencodable);
    }
  });

  it.each([
    ['a throwing getter', () => ({ get x(): number {
      throw new Error('getter');
    } })],
    ['a revoked Proxy', () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return { p: proxy };
    }],
    ['a Proxy whose ownKeys trap throws', () => ({ p: new Proxy({}, { ownKeys: () => {
      throw new Error('trap');
    } }) })],
    ['a Proxy whose getPrototypeOf trap throws', () => [new Proxy({}, { getPrototypeOf: () => {
      throw new Error('trap');
    } })]],
  ])('%s gives TROUPE_ERR_UNENCODABLE ("could not be inspected"), not an untyped error', (_what, make) => {
    for (const [, ref] of targets) {
      for (const send of [() => ref.tell(make()), () => ref.ask(make())]) {
        expect(send).toThrowError(unencodable);
        expect(send).toThrowError(/could not be inspected/);
      }
    }
  });

  it.each([
    ['a lone high surrogate', '\ud800abc'],
    ['a lone low surrogate, nested', { a: [{ b: 'x\udc00' }] }],
    ['a key with a lone surrogate', { ['k\ud83d']: 1 }],
  ])('%s is refused with TROUPE_ERR_UNENCODABLE (it arrived altered across threads)', (_what, msg) => {
    for (const [, ref] of targets) {
      expect(() => ref.tell(msg)).toThrowError(unencodable);
      expect(() => ref.ask(msg)).toThrowError(/surrogate/);
    }
  });

  it('well-formed strings, surrogate pairs included, arrive intact everywhere', async () => {
    const msg = { emoji: '😀 grüße 日本', ['key😀']: ['\ud83d\ude00'] };
    for (const [, ref] of targets) expect(await ref.ask(msg)).toEqual(msg);
  });

  it('the size limit is the same on the same thread as across (a 200 KB message was accepted locally)', async () => {
    for (const [, ref] of targets) {
      expect(() => ref.tell({ blob: 'x'.repeat(200_000) })).toThrowError(tooLarge);
      expect(() => ref.ask(new Uint8Array(200_000))).toThrowError(tooLarge);
    }
  });

  it('a message right at the limit is accepted everywhere, one byte more is refused everywhere', async () => {
    // A str32 header is 5 bytes; ASCII makes the cheap bounds straddle the limit, so this is the exact path.
    const fits = 'y'.repeat(limit - 5);
    const over = 'y'.repeat(limit - 4);
    for (const [, ref] of targets) {
      expect(await ref.ask(fits)).toBe(fits);
      expect(() => ref.tell(over)).toThrowError(tooLarge);
    }
  });

  it('shared sub-objects are counted each time they appear, and refused quickly (it took exponential time)', async () => {
    let shared: unknown[] = [];
    for (let i = 0; i < 40; i++) shared = [shared, shared];
    for (const [, ref] of targets) {
      expect(() => ref.tell(shared)).toThrowError(tooLarge);
      expect(() => ref.ask({ shared })).toThrowError(tooLarge);
    }
    // Sharing itself is fine within the limit: both copies arrive.
    const part = { list: [1, 2, 3] };
    for (const [, ref] of targets) expect(await ref.ask({ a: part, b: part })).toEqual({ a: part, b: part });
  });
});

describe('maxMessageNodes', () => {
  it('bounds the values and keys of a message, the same on every host', async () => {
    await using system = await startSystem({ workers: 1, maxMessageNodes: 100, laneBytes: 1 << 20 });
    const same = await system.spawn(actor('echo'), { host: 'main' });
    const across = await system.spawn(actor('echo'), { host: 0 });
    let shared: unknown[] = [];
    for (let i = 0; i < 40; i++) shared = [shared, shared];
    // 1 array + 99 numbers = 100 nodes; a key and its value count two.
    const fits = Array.from({ length: 99 }, (_, i) => i);
    for (const ref of [same, across]) {
      expect(() => ref.tell(shared)).toThrowError(/maxMessageNodes/);
      expect(() => ref.tell(shared)).toThrowError(unencodable);
      expect(() => ref.tell([...fits, 99])).toThrowError(/more than 100 values and keys/);
      expect(() => ref.tell({ list: fits })).toThrowError(unencodable);
      expect(await ref.ask(fits)).toEqual(fits);
    }
  });

  it.each([0, 1.5, -1, '100', 2 ** 31])('refuses %j with TROUPE_ERR_INVALID_OPTION', async (value) => {
    const error = await ActorSystem.start({ workers: 0, maxMessageNodes: value as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', option: 'maxMessageNodes' });
  });
});

describe('spawn args', () => {
  it('an Invalid Date in args reaches init on a worker as on main (it failed on a worker)', async () => {
    await using system = await startSystem({ workers: 1 });
    for (const host of ['main', 0] as const) {
      const ref = await system.spawn(fixture('args-echo'), { host, args: { at: new Date(Number.NaN) } });
      const args = (await ref.ask('get')) as { at: Date };
      expect(args.at).toBeInstanceOf(Date);
      expect(args.at.getTime()).toBeNaN();
    }
  });

  it('args past the size limit are refused wherever the actor would start, with nothing started', async () => {
    await using system = await startSystem({ workers: 1 });
    for (const host of ['main', 0] as const) {
      await expect(system.spawn(fixture('args-echo'), { host, args: { blob: 'z'.repeat(200_000) } })).rejects.toThrowError(tooLarge);
      await expect(system.spawn(fixture('args-echo'), { host, args: { bad: 'a\ud800' } })).rejects.toThrowError(unencodable);
    }
  });
});
