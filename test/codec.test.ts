import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LaneDecoder, LaneEncoder } from '../dist/src/codec/codec.js';
import { LaneDictionary } from '../dist/src/lane/dictionary.js';
import { allocateLane } from '../dist/src/lane/ring.js';
import { actor, startSystem } from './helpers.js';

const refFactory = (id: number, name: string | undefined) => ({ id, name });

function roundTrip(encoder: LaneEncoder, decoder: LaneDecoder, value: unknown): unknown {
  encoder.encode(value);
  // copy out, as the ring would hold it
  const bytes = encoder.encoded.slice(encoder.encodedStart, encoder.encodedEnd);
  return decoder.decode(bytes, 0, bytes.length);
}

describe('lane codec (msgpack records with structures shared through the lane)', () => {
  it('round-trips any plain data, whatever shapes come first (property)', () => {
    const lane = allocateLane(65536);
    const encoder = new LaneEncoder(lane);
    const decoder = new LaneDecoder(lane, 64, refFactory);
    const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__');
    const leaf = fc.oneof(fc.integer(), fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)) /* msgpack has no -0 integer: it arrives as 0 */, fc.string(), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 5 })),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(roundTrip(encoder, decoder, v)).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('shares the first 32 shapes as records and sends the rest as maps', () => {
    const lane = allocateLane(65536);
    const encoder = new LaneEncoder(lane);
    const decoder = new LaneDecoder(lane, 64, refFactory);
    for (let i = 0; i < 40; i++) expect(roundTrip(encoder, decoder, { [`k${i}`]: i, n: i })).toEqual({ [`k${i}`]: i, n: i });
    encoder.encode({ k0: 1, n: 2 });
    expect(encoder.encoded[encoder.encodedStart]).toBe(0x40); // record #0
    encoder.encode({ k39: 1, n: 2 });
    expect(encoder.encoded[encoder.encodedStart] & 0xf0).not.toBe(0x40); // a plain map
  });

  it('a replacement consumer or producer continues from the dictionary the lane kept', () => {
    const lane = allocateLane(65536);
    const first = new LaneEncoder(lane);
    first.encode({ a: 1, b: 'x' });
    const early = first.encoded.slice(first.encodedStart, first.encodedEnd);
    // the producer's thread dies; its replacement must not reuse record ids
    const second = new LaneEncoder(lane);
    second.encode({ c: 2 });
    const late = second.encoded.slice(second.encodedStart, second.encodedEnd);
    // the consumer's thread dies too; a fresh one decodes both
    const decoder = new LaneDecoder(lane, 64, refFactory);
    expect(decoder.decode(early, 0, early.length)).toEqual({ a: 1, b: 'x' });
    expect(decoder.decode(late, 0, late.length)).toEqual({ c: 2 });
  });

  it('distrusts a dictionary it did not get from a troupe producer', () => {
    const lane = allocateLane(65536);
    const encoder = new LaneEncoder(lane);
    encoder.encode({ safe: 1 });
    const record = encoder.encoded.slice(encoder.encodedStart, encoder.encodedEnd);
    // a hostile dictionary: structure 0 has a __proto__ key
    new LaneDictionary(lane).write(Buffer.from('9191a95f5f70726f746f5f5f', 'hex'));
    const decoder = new LaneDecoder(lane, 64, refFactory);
    expect(() => decoder.decode(record, 0, record.length)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_DECODE' }));
    // plain maps still decode
    const map = Buffer.from('81a16101', 'hex');
    expect(decoder.decode(map, 0, map.length)).toEqual({ a: 1 });
  });

  it('carries 40 message shapes between real threads', async () => {
    await using system = await startSystem();
    const echo = await system.spawn(actor('echo'), { host: 1 });
    const shapes = Array.from({ length: 40 }, (_, i) => ({ [`field${i}`]: i, nested: { depth: i, list: [i, { x: i }] } }));
    expect(await Promise.all(shapes.map((shape) => echo.ask(shape)))).toEqual(shapes);
  });
});
