/**
 * The cluster's pure parts, without a server: the failure detector's timing
 * on a fed clock, refs that name their node through the codec, and frames
 * from the network that are not troupe's.
 */
import { describe, expect, it } from 'vitest';
import { Membership } from '../dist/src/cluster/membership.js';
import { decodeFrame, encodeFrame } from '../dist/src/cluster/frames.js';
import { decodeFromNode, encodeForNode } from '../dist/src/codec/codec.js';
import { Packr } from 'msgpackr';

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

  it('a frame round-trips; anything else from the network is a DecodeError', () => {
    const frame = { f: 'n1', i: 3, t: 4, r: [[1, 17, new Uint8Array([0xc0])] as [1, number, Uint8Array]] };
    const back = decodeFrame(encodeFrame(frame));
    expect({ ...back, r: back.r.map((r) => [r[0], r[1], Uint8Array.from(r[2] as Uint8Array)]) }).toEqual(frame);
    const packr = new Packr({ useRecords: false });
    for (const junk of [new Uint8Array([0xc1]), packr.pack('hello'), packr.pack({ f: 'n1', i: -1, t: 0, r: [] }), packr.pack({ f: 'n1', i: 1, t: 0, r: [[9, 1, 2]] }), packr.pack({ f: 'n1', i: 1, t: 0, r: [[2, 1, 2, 3, 'x']] })]) {
      expect(() => decodeFrame(junk)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_DECODE' }));
    }
  });
});
