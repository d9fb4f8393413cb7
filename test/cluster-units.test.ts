/**
 * The cluster's pure parts, without a server: the failure detector's timing
 * on a fed clock, refs that name their node through the codec, and frames
 * from the network that are not troupe's.
 */
import { describe, expect, it } from 'vitest';
import { Membership } from '../dist/src/cluster/membership.js';
import { FrameWriter, decodeFrame } from '../dist/src/cluster/frames.js';
import { decodeFromNode, encodeForNode } from '../dist/src/codec/codec.js';
import { Packr } from 'msgpackr';
import { HashRing } from '../dist/src/cluster/ring.js';

const timing = { suspectAfterMs: 600, downAfterMs: 1500 };

describe('the failure detector', () => {
  it('up at the first heartbeat, unreachable after suspectAfterMs, reachable again, down after downAfterMs', () => {
    const m = new Membership('me', timing);
    expect(m.heard('me', 1, false, 0)).toEqual([]);
    expect(m.heard('a', 7, false, 0)).toEqual([{ type: 'nodeUp', node: 'a', incarnation: 7 }]);
    expect(m.tick(599)).toEqual([]);
    expect(m.tick(600)).toEqual([{ type: 'nodeUnreachable', node: 'a', incarnation: 7, silentMs: 600 }]);
    expect(m.tick(700)).toEqual([]);
    expect(m.heard('a', 7, false, 800)).toEqual([{ type: 'nodeReachable', node: 'a', incarnation: 7 }]);
    expect(m.tick(2299)).toEqual([{ type: 'nodeUnreachable', node: 'a', incarnation: 7, silentMs: 1499 }]);
    expect(m.tick(2300)).toEqual([{ type: 'nodeDown', node: 'a', incarnation: 7, reason: 'silent' }]);
    expect(m.members()).toEqual([]);
  });

  it('a down incarnation never comes back; a new one is a new member', () => {
    const m = new Membership('me', timing);
    m.heard('a', 7, false, 0);
    m.tick(1500);
    expect(m.heard('a', 7, false, 1600)).toEqual([]);
    expect(m.heard('a', 8, false, 1700)).toEqual([{ type: 'nodeUp', node: 'a', incarnation: 8 }]);
  });

  it('a restart seen before the silence: the old incarnation is down (restarted), the new one up', () => {
    const m = new Membership('me', timing);
    m.heard('a', 7, false, 0);
    expect(m.heard('a', 9, false, 100)).toEqual([
      { type: 'nodeDown', node: 'a', incarnation: 7, reason: 'restarted' },
      { type: 'nodeUp', node: 'a', incarnation: 9 },
    ]);
  });

  it('a goodbye is down at once, reason left', () => {
    const m = new Membership('me', timing);
    m.heard('a', 7, false, 0);
    expect(m.heard('a', 7, true, 10)).toEqual([{ type: 'nodeDown', node: 'a', incarnation: 7, reason: 'left' }]);
    expect(m.heard('a', 7, false, 20)).toEqual([]);
  });
});

describe('refs and frames between nodes', () => {
  /** What the codec sees of an ActorRef: a class instance with the ref marker. */
  class FakeRef {
    constructor(
      readonly id: number,
      readonly name: string | undefined,
      readonly address?: { node: string; incarnation: number },
    ) {}
    get [Symbol.for('troupe.ref')](): true {
      return true;
    }
  }

  it('a local ref is stamped with the sending node; a remote one keeps its node', () => {
    const local = new FakeRef(5, 'five');
    const remote = new FakeRef(9, undefined, { node: 'n2', incarnation: 77 });
    const bytes = encodeForNode({ a: local, b: [remote] }, { node: 'n1', incarnation: 3 });
    const made: unknown[] = [];
    const value = decodeFromNode(bytes, 8, (id, name, address) => {
      made.push({ id, name, address });
      return `ref ${id}`;
    }) as { a: string; b: string[] };
    expect(value).toEqual({ a: 'ref 5', b: ['ref 9'] });
    expect(made).toEqual([
      { id: 5, name: 'five', address: { node: 'n1', incarnation: 3 } },
      { id: 9, name: undefined, address: { node: 'n2', incarnation: 77 } },
    ]);
  });

  it('a frame round-trips in one decode; anything else from the network is a DecodeError', () => {
    const self = { node: 'n1', incarnation: 3 };
    const writer = new FrameWriter(4);
    writer.tell(17, 0, encodeForNode({ hello: 'world' }, self));
    writer.ask(18, 6, 99, 5000, encodeForNode([1, 2, new FakeRef(5, 'five')], self));
    writer.answer(3, 7, encodeForNode('done', self));
    const refs: unknown[] = [];
    const frame = decodeFrame(writer.finish('n1', 3), 64, (id, name, address) => {
      refs.push({ id, name, address });
      return `ref ${id}`;
    });
    expect(frame).toEqual({
      from: 'n1',
      fromIncarnation: 3,
      toIncarnation: 4,
      records: [
        [1, 17, 0, { hello: 'world' }],
        [2, 18, 6, 99, 5000, [1, 2, 'ref 5']],
        [3, 7, 'done'],
      ],
    });
    expect(refs).toEqual([{ id: 5, name: 'five', address: self }]);
    const packr = new Packr({ useRecords: false });
    const junk = [new Uint8Array([0xc1]), packr.pack('hello'), packr.pack(['n1', -1, 0, []]), packr.pack(['n1', 1, 0, [[9, 1, 2]]]), packr.pack(['n1', 1, 0, [[2, 1, 2, 3, 'x', 'y']]]), packr.pack(['n1', 1, 0, [[1, 17, { hello: 1 }]]]), packr.pack(['n1', 1, 0, [[4, 1, 'not an error']]])];
    for (const bytes of junk) expect(() => decodeFrame(bytes, 64, () => undefined)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_DECODE' }));
  });
});

describe('the placement ring', () => {
  it('spreads keys over the nodes and moves only the leaving node\'s keys', () => {
    const keys = Array.from({ length: 6000 }, (_, i) => `account/${i}`);
    const four = new HashRing(['a', 'b', 'c', 'd']);
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(four.owner(key)!, (counts.get(four.owner(key)!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    // 64 points per node: each holds a fair share, within ±40 % of 1,500.
    for (const count of counts.values()) expect(Math.abs(count - 1500)).toBeLessThan(600);
    const three = new HashRing(['a', 'b', 'd']);
    for (const key of keys) if (four.owner(key) !== 'c') expect(three.owner(key)).toBe(four.owner(key));
    // The same members in any order: the same owners.
    const shuffled = new HashRing(['d', 'b', 'a', 'c']);
    for (const key of keys.slice(0, 500)) expect(shuffled.owner(key)).toBe(four.owner(key));
    expect(new HashRing([]).owner('x')).toBeUndefined();
  });
});
