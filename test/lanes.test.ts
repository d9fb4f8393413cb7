import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LaneReader, LaneWriter, allocateLane, maxPayloadBytes } from '../dist/src/lane/ring.js';
import { HOST_STATS_OFFSET } from '../dist/src/lane/layout.js';
import { actor, startSystem } from './helpers.js';

type Op = { write: number } | { publish: true } | { read: number };

describe('the SPSC ring', () => {
  it('delivers every published record once, in order, intact, across wrap-arounds (property)', () => {
    const capacity = 4096;
    const maxPayload = maxPayloadBytes(capacity);
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: maxPayload }).map((n): Op => ({ write: n })) },
      { weight: 2, arbitrary: fc.constant<Op>({ publish: true }) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 20 }).map((n): Op => ({ read: n })) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
        const lane = allocateLane(capacity);
        const blocks = [new SharedArrayBuffer(HOST_STATS_OFFSET), new SharedArrayBuffer(HOST_STATS_OFFSET)];
        const writer = new LaneWriter(lane, blocks[1]);
        const reader = new LaneReader(lane, blocks[0]);
        let nextSeq = 0;
        const unpublished: number[] = [];
        const inFlight: { seq: number; length: number }[] = [];
        const lengths = new Map<number, number>();
        const check = (): void => {
          const expected = inFlight.shift()!;
          expect(reader.target).toBe(expected.seq);
          expect(reader.trace).toBe(expected.seq);
          expect(reader.payloadEnd - reader.payloadStart).toBe(expected.length);
          for (let i = reader.payloadStart; i < reader.payloadEnd; i++) {
            if (reader.bytes[i] !== ((expected.seq + i - reader.payloadStart) & 0xff)) throw new Error(`byte ${i} of record ${expected.seq} damaged`);
          }
        };
        for (const o of ops) {
          if ('write' in o) {
            const seq = nextSeq;
            const at = writer.reserve(1, seq, 0, 0, seq, o.write);
            if (at < 0) continue; // full: the producer would hold it in overflow
            nextSeq++;
            for (let i = 0; i < o.write; i++) writer.bytes[at + i] = (seq + i) & 0xff;
            unpublished.push(seq);
            lengths.set(seq, o.write);
          } else if ('publish' in o) {
            writer.publish();
            for (const seq of unpublished.splice(0)) inFlight.push({ seq, length: lengths.get(seq)! });
          } else {
            reader.refresh();
            for (let i = 0; i < o.read && reader.next(); i++) check();
            reader.commit();
          }
        }
        writer.publish();
        for (const seq of unpublished.splice(0)) inFlight.push({ seq, length: lengths.get(seq)! });
        reader.refresh();
        while (reader.next()) check();
        reader.commit();
        expect(inFlight).toEqual([]);
        expect(reader.discardedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a writer overrun unread records (full lane refuses)', () => {
    const lane = allocateLane(4096);
    const writer = new LaneWriter(lane, new SharedArrayBuffer(HOST_STATS_OFFSET));
    let written = 0;
    while (writer.reserve(1, written, 0, 0, 0, 100) >= 0) written++;
    // 100-byte payload + 24-byte header, 8-aligned = 128 bytes: 32 fit in 4096
    expect(written).toBe(Math.floor(4096 / 128));
  });
});

describe('lanes between real threads', () => {
  it('carries random-sized payloads through wrap-arounds intact, both ways', async () => {
    await using system = await startSystem({ laneBytes: 65536 });
    const echoes = [await system.spawn(actor('echo'), { host: 0 }), await system.spawn(actor('echo'), { host: 1 })];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(1), fc.string({ maxLength: 20_000, unit: 'binary' })), { minLength: 1, maxLength: 40 }), async (batch) => {
        const answers = await Promise.all(batch.map(([which, text]) => echoes[which].ask({ text, length: text.length })));
        expect(answers).toEqual(batch.map(([, text]) => ({ text, length: text.length })));
      }),
      { numRuns: 40 },
    );
    const lanes = system.stats().hosts.flatMap((h) => h.lanesIn);
    // the echoes moved far more than a lane's worth of bytes, so every busy lane wrapped
    expect(lanes.every((lane) => lane.depthBytes === 0)).toBe(true);
  });
});
