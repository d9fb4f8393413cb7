import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaults, type ActorSystem, type DeadLetterEvent, type SystemOptions } from 'troupe';
import { Chaos } from 'troupe/chaos';
import { crc32 } from '../dist/src/lane/crc32.js';
import { HOST_STATS_OFFSET } from '../dist/src/lane/layout.js';
import { LaneReader, LaneWriter, allocateLane, maxPayloadBytes } from '../dist/src/lane/ring.js';
import { isIntact, type SinkReport } from '../dist/test/fixtures/sealed.js';
import { fixture, startSystem } from './helpers.js';
import * as zlib from 'node:zlib';

const kMessages = 400;

/** Counts dead letters by reason; `reach(reasons, n)` resolves once `n` of them, of any of these reasons, were heard. */
function deadLetters(system: ActorSystem) {
  const seen: DeadLetterEvent[] = [];
  const waiters: { reason: string[]; n: number; resolve: () => void }[] = [];
  const count = (...reasons: string[]) => seen.filter((e) => reasons.includes(e.reason)).length;
  system.events.on('deadLetter', (event) => {
    seen.push(event);
    for (const w of waiters.splice(0)) {
      if (count(...w.reason) >= w.n) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    seen,
    count,
    reach: (reason: string[], n: number) => new Promise<void>((resolve) => (count(...reason) >= n ? resolve() : waiters.push({ reason, n, resolve }))),
  };
}

/**
 * A source on worker 0 sends `kMessages` sealed messages to a sink on worker 1 through a lane that
 * damages some of them, then asks the sink (through the same lane, healed, so after all of them)
 * what reached it. Every message is accounted for: received, or a dead letter.
 */
async function sendThroughCorruption(options: SystemOptions, corruptRate: number) {
  await using system = await startSystem({ ...options, spareWorker: false });
  const letters = deadLetters(system);
  const chaos = new Chaos(system, { seed: 18 });
  const url = fixture('sealed');
  const source = await system.spawn(url, { host: 0, export: 'source' });
  const sink = await system.spawn(url, { host: 1, export: 'sink' });
  chaos.link(0, 1, { corruptRate });
  expect(await source.ask({ send: kMessages, to: sink })).toBe(kMessages);
  chaos.healAll();
  const report = (await source.ask({ flush: sink })) as SinkReport;
  const lost = kMessages - report.intact - report.damaged;
  // Dead letters travel to main on another lane than the report: wait for them rather than race them.
  await letters.reach(['checksum-failed', 'decode-failed'], lost);
  const corrupted = system.stats().hosts.find((h) => h.host === 0)?.faults.corrupted;
  return { report, lost, letters, corrupted, sourceId: source.id, sinkId: sink.id };
}

describe('record checksum (option checksum)', () => {
  it('is off by default and validated', async () => {
    expect(defaults.checksum).toBe(false);
    await expect(startSystem({ checksum: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', option: 'checksum' });
  });

  it('computes CRC-32 (IEEE) like zlib, on either side of the native threshold and on shared memory', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(4096));
    for (let i = 0; i < shared.length; i++) shared[i] = (i * 2654435761) >>> 24;
    expect(crc32(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926); // the check value of CRC-32/ISO-HDLC
    for (const [start, end] of [[0, 0], [3, 4], [5, 60], [1, 255], [7, 256], [9, 4096]]) {
      const expected = zlib.crc32 === undefined ? undefined : zlib.crc32(Buffer.from(shared.slice(start, end)));
      if (expected !== undefined) expect(crc32(shared, start, end)).toBe(expected);
    }
  });

  it('a ring with checksums on delivers every record intact and flags every damaged one (property)', () => {
    const capacity = 4096;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: maxPayloadBytes(capacity) }), fc.option(fc.nat(), { nil: undefined })), { minLength: 1, maxLength: 60 }), (records) => {
        const lane = allocateLane(capacity);
        const writer = new LaneWriter(lane, new SharedArrayBuffer(HOST_STATS_OFFSET), true);
        const reader = new LaneReader(lane, new SharedArrayBuffer(HOST_STATS_OFFSET), true);
        for (const [seq, [length, flip]] of records.entries()) {
          const at = writer.reserve(1, seq, 0, 0, 0, length);
          expect(at).toBeGreaterThanOrEqual(0);
          for (let i = 0; i < length; i++) writer.bytes[at + i] = (seq + i) & 0xff;
          // A flip after the sum is taken (the next reserve or publish takes it): damage in transit.
          writer.publish();
          if (flip !== undefined && length > 0) writer.bytes[at + (flip % length)] ^= 1 << (flip % 8);
          reader.refresh();
          expect(reader.next()).toBe(true);
          expect(reader.target).toBe(seq);
          expect(reader.payloadEnd - reader.payloadStart).toBe(length);
          expect(reader.intact()).toBe(flip === undefined || length === 0);
          reader.commit();
        }
        expect(reader.discardedBytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('a carried checksum (of the bytes before a fault damaged them) is kept, and a reader that requires sums refuses a record without one', () => {
    const lane = allocateLane(4096);
    const writer = new LaneWriter(lane, new SharedArrayBuffer(HOST_STATS_OFFSET), true);
    const reader = new LaneReader(lane, new SharedArrayBuffer(HOST_STATS_OFFSET), true);
    const original = Uint8Array.from([1, 2, 3, 4, 5]);
    const damaged = Uint8Array.from([1, 2, 7, 4, 5]);
    writer.bytes.set(damaged, writer.reserve(1, 1, 0, 0, 0, damaged.length, crc32(original, 0, original.length)));
    writer.bytes.set(original, writer.reserve(1, 2, 0, 0, 0, original.length, crc32(original, 0, original.length)));
    writer.publish();
    const plain = new LaneWriter(lane, new SharedArrayBuffer(HOST_STATS_OFFSET));
    plain.bytes.set(original, plain.reserve(1, 3, 0, 0, 0, original.length));
    plain.publish();
    reader.refresh();
    const verdicts: [number, boolean][] = [];
    while (reader.next()) verdicts.push([reader.target, reader.intact()]);
    expect(verdicts).toEqual([[1, false], [2, true], [3, false]]);
  });

  it('with checksum on, no damaged message reaches receive: each is a checksum-failed dead letter naming target and sender', { timeout: 120_000 }, async () => {
    const { report, lost, letters, corrupted, sourceId, sinkId } = await sendThroughCorruption({ checksum: true }, 0.3);
    expect(report.damaged).toBe(0);
    expect(lost).toBeGreaterThan(0);
    expect(report.intact + lost).toBe(kMessages);
    expect(letters.count('checksum-failed')).toBe(lost);
    expect(letters.count('decode-failed')).toBe(0);
    if (corrupted !== undefined) expect(corrupted).toBe(lost);
    for (const letter of letters.seen.filter((e) => e.reason === 'checksum-failed')) {
      expect(letter).toMatchObject({ target: sinkId, sender: sourceId, host: 1, error: { code: 'TROUPE_ERR_DECODE' } });
      expect(letter.message).toBeUndefined();
    }
  });

  it('with checksum off, the same faults deliver damaged messages (what the option prevents)', { timeout: 120_000 }, async () => {
    const { report, lost } = await sendThroughCorruption({ checksum: false }, 0.3);
    expect(report.damaged).toBeGreaterThan(0);
    expect(report.intact + report.damaged + lost).toBe(kMessages);
  });

  it('a damaged ask is answered with TROUPE_ERR_DECODE, a damaged reply rejects its ask: no damaged value reaches the caller', { timeout: 120_000 }, async () => {
    await using system = await startSystem({ checksum: true, spareWorker: false });
    const letters = deadLetters(system);
    const chaos = new Chaos(system, { seed: 18 });
    const url = fixture('sealed');
    const sink = await system.spawn(url, { host: 1, export: 'sink' });
    const answerer = await system.spawn(url, { host: 0, export: 'answerer' });
    chaos.link('main', 1, { corruptRate: 1 });
    const asks = await Promise.allSettled(Array.from({ length: 20 }, (_, seq) => sink.ask({ seq, body: 'x', x: 0 }, { timeoutMs: 10_000 })));
    expect(asks.every((a) => a.status === 'rejected' && (a.reason as { code?: string }).code === 'TROUPE_ERR_DECODE')).toBe(true);
    chaos.healAll();
    chaos.link(0, 'main', { corruptRate: 1 });
    const replies = await Promise.allSettled(Array.from({ length: 20 }, (_, seq) => answerer.ask(seq)));
    expect(replies.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'TROUPE_ERR_DECODE')).toBe(true);
    chaos.healAll();
    const value = await answerer.ask(7);
    expect(isIntact(value)).toBe(true);
    expect(await sink.ask({ report: true })).toEqual({ intact: 0, damaged: 0 });
    await letters.reach(['checksum-failed'], 40);
  });
});
