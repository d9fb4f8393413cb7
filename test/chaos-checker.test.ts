import { describe, expect, it } from 'vitest';
import { check } from '../chaos/checker.js';
import type { HistoryRecord, PairName, RunRecord } from '../chaos/history.js';
import { measure, percentiles } from '../chaos/measure.js';
import { parseDuration, parseSeed, parseTime, resolveScenario, UsageError } from '../chaos/scenario.js';
import type { ModeName } from '../chaos/workload/payload.js';

/** A tiny history builder: times are ms from 0; what matters to the checker is order and classification. */
function h() {
  const records: HistoryRecord[] = [];
  let at = 0;
  const api = {
    records,
    producer(host: string, inc: number) {
      records.push({ type: 'producer-start', at: ++at, host, inc });
      return api;
    },
    send(pair: PairName, mode: ModeName, ks: number[], inc = 1) {
      for (const k of ks) records.push({ type: 'send', at: ++at, pair, mode, k, intended: at, inc });
      return api;
    },
    fail(pair: PairName, mode: ModeName, k: number) {
      records.push({ type: 'fail', at: ++at, pair, mode, k, code: 'TROUPE_ERR_RELIABLE_BUFFER_FULL' });
      return api;
    },
    confirm(pair: PairName, k: number, inc = 1) {
      records.push({ type: 'confirm', at: ++at, pair, mode: 'reliable', k, inc });
      return api;
    },
    recv(pair: PairName, mode: ModeName, ks: number[], inc = 100) {
      for (const k of ks) records.push({ type: 'recv', at: ++at, pair, mode, k, intended: 0, inc });
      return api;
    },
    /** Lets time pass (more than the checker's cross-thread clock slack). */
    later(ms = 100) {
      at += ms;
      return api;
    },
    /** A dead letter recorded by the workload (ids as in `actors` below). */
    dead(reason: string, d: { host?: string; target: number; sender?: number; from?: string; k?: number; count?: number }) {
      const { host = 'main', count = 1, ...rest } = d;
      records.push({ type: 'dead-letter', at: ++at, host, reason, count, ...rest });
      return api;
    },
  };
  return api;
}

/** Actor ids of a synthetic run: producers 10, 11, 12; reliable consumers 20, 21, 22; consumers of tells 30, 31, 32 (main, 0, 1). */
const actors = { producers: { main: 10, '0': 11, '1': 12 }, consumers: { main: 20, '0': 21, '1': 22 }, tells: { main: 30, '0': 31, '1': 32 } };
const runRecord = (): RunRecord => ({
  type: 'run',
  scenario: 'unit',
  description: '',
  seed: 1,
  durationMs: 1000,
  quick: true,
  workers: 2,
  hosts: ['main', '0', '1'],
  modes: ['reliable', 'at-most-once'],
  rate: 100,
  sloMs: 1000,
  t0: 0,
  endAt: 1000,
  faults: [],
  actors,
  replay: '',
  node: '',
});
/** A history that opens with the run record (the checker learns the actor ids from it). */
const run = () => {
  const b = h();
  b.records.push(runRecord());
  return b;
};

const only = (history: HistoryRecord[], mode: ModeName = 'reliable') => {
  const ledger = check(history);
  const pairs = ledger.pairs.filter((p) => p.mode === mode);
  expect(pairs).toHaveLength(1);
  const { pair: _pair, mode: _mode, lostSample: _sample, ...counts } = pairs[0];
  return counts;
};

describe('chaos checker', () => {
  it('counts a clean run: everything attempted, confirmed and received once, in order', () => {
    const history = h().producer('main', 1).send('main>0', 'reliable', [0, 1, 2, 3]).confirm('main>0', 3).recv('main>0', 'reliable', [0, 1, 2, 3]).records;
    expect(only(history)).toEqual({ attempted: 4, failed: 0, acknowledged: 4, received: 4, lost: 0, indeterminate: 0, duplicated: 0, redelivered: 0, outOfOrder: 0, unexpected: 0, reported: 0, unreported: 0 });
    expect(check(history).reliableOk).toBe(true);
  });

  it('a message accepted by a live producer and never received is lost; a refused one is only failed', () => {
    const history = h().producer('0', 1).send('0>1', 'reliable', [0, 1, 2, 3, 4]).fail('0>1', 'reliable', 4).confirm('0>1', 1).recv('0>1', 'reliable', [0, 1, 3]).records;
    const counts = only(history);
    expect(counts).toMatchObject({ attempted: 5, failed: 1, acknowledged: 2, received: 3, lost: 1, indeterminate: 0 });
    expect(check(history).pairs[0].lostSample).toEqual([2]);
    expect(check(history).reliableOk).toBe(false);
  });

  it('unconfirmed messages of a producer incarnation that died are indeterminate, never lost; confirmed ones are still owed', () => {
    const history = h()
      .producer('0', 1)
      .send('0>1', 'reliable', [0, 1, 2, 3, 4], 1)
      .confirm('0>1', 2, 1)
      .recv('0>1', 'reliable', [0, 1])
      .producer('0', 2) // incarnation 1 died
      .send('0>1', 'reliable', [7, 8], 2)
      .recv('0>1', 'reliable', [7, 8]).records;
    // 2 was confirmed by the consumer yet never recorded as received: lost; 3 and 4 unconfirmed, producer dead: indeterminate
    expect(only(history)).toMatchObject({ attempted: 7, acknowledged: 3, received: 4, lost: 1, indeterminate: 2 });
  });

  it('at-most-once: what tell accepted and nobody received is lost; only a dead producer\'s last send is indeterminate', () => {
    const history = h().producer('0', 1).send('0>1', 'at-most-once', [0, 1, 2]).producer('0', 2).recv('0>1', 'at-most-once', [0]).records;
    // 1 was made and lost; 2 is the last send incarnation 1 recorded before it died: it may never have been made.
    expect(only(history, 'at-most-once')).toMatchObject({ attempted: 3, acknowledged: 2, received: 1, lost: 1, indeterminate: 1 });
    // A live producer's last send is owed like any other.
    const alive = h().producer('0', 1).send('0>1', 'at-most-once', [0, 1, 2]).recv('0>1', 'at-most-once', [0]).records;
    expect(only(alive, 'at-most-once')).toMatchObject({ acknowledged: 3, lost: 2, indeterminate: 0 });
    // Received, it was made: counted as accepted, not indeterminate.
    const made = h().producer('0', 1).send('0>1', 'at-most-once', [0, 1]).producer('0', 2).recv('0>1', 'at-most-once', [0, 1]).records;
    expect(only(made, 'at-most-once')).toMatchObject({ acknowledged: 2, lost: 0, indeterminate: 0 });
  });

  it('tells duplicates within an incarnation from redeliveries to a later one, and counts reordering per incarnation', () => {
    const history = h()
      .producer('main', 1)
      .send('main>1', 'reliable', [0, 1, 2, 3, 4, 5])
      .recv('main>1', 'reliable', [0, 1, 1, 3, 2], 100) // 1 twice: duplicated; 2 after 3: out of order
      .recv('main>1', 'reliable', [2, 3, 4, 5], 200) // a new incarnation gets 2 and 3 again: redelivered
      .confirm('main>1', 5).records;
    expect(only(history)).toMatchObject({ received: 6, duplicated: 1, redelivered: 2, outOfOrder: 1, lost: 0 });
    expect(check(history).reliableOk).toBe(false);
  });

  it('flags deliveries of numbers never sent on the pair, and keeps pairs and modes apart', () => {
    const history = h()
      .producer('main', 1)
      .send('main>0', 'reliable', [0, 1])
      .send('main>0', 'at-most-once', [0, 1])
      .recv('main>0', 'reliable', [0, 1, 9])
      .recv('main>0', 'at-most-once', [1])
      .confirm('main>0', 1).records;
    const ledger = check(history);
    expect(ledger.totals.reliable).toMatchObject({ attempted: 2, received: 2, unexpected: 1, lost: 0 });
    expect(ledger.totals['at-most-once']).toMatchObject({ attempted: 2, received: 1, lost: 1 });
    expect(ledger.reliableOk).toBe(false);
  });

  it('at-most-once: a lost message is reported by a dead letter that carried it, once, and only if it was lost', () => {
    const history = run()
      .producer('main', 1)
      .send('main>0', 'at-most-once', [0, 1, 2, 3])
      .recv('main>0', 'at-most-once', [0])
      .dead('link-fault', { target: 31, sender: 10, from: 'main', k: 2 })
      .dead('link-fault', { target: 31, sender: 10, from: 'main', k: 2 }) // the same message twice: still one
      .dead('stopped', { host: '0', target: 31, sender: 10, from: 'main', k: 0 }) // a copy of one that was delivered
      .records;
    expect(only(history, 'at-most-once')).toMatchObject({ lost: 3, reported: 1, unreported: 2 });
    const ledger = check(history);
    expect(ledger.atMostOnceOk).toBe(false);
    expect(ledger.deadLetters).toEqual({ 'link-fault': 2, stopped: 1 });
  });

  it('at-most-once: a dead letter whose target id was damaged is matched by its sender host and slot', () => {
    const history = run().producer('0', 1).send('0>1', 'at-most-once', [0, 1]).send('0>main', 'at-most-once', [0, 1]).recv('0>main', 'at-most-once', [0, 1]).dead('no-actor', { host: '1', target: 999, sender: 11, from: '0', k: 1 }).records;
    const ledger = check(history);
    expect(ledger.pairs.find((p) => p.pair === '0>1' && p.mode === 'at-most-once')).toMatchObject({ lost: 2, reported: 1, unreported: 1 });
  });

  it('at-most-once: a dead letter without the message covers as many messages as it counts, per (sender, target), sent before it', () => {
    const history = run()
      .producer('main', 1)
      .send('main>1', 'at-most-once', [0, 1, 2])
      .send('0>1', 'at-most-once', [0])
      .dead('checksum-failed', { host: '1', target: 32, sender: 10, count: 1 })
      .dead('checksum-failed', { host: '1', target: 32, sender: 10, count: 1 })
      .later()
      .send('main>1', 'at-most-once', [3]) // sent after every dead letter: none of them can be it
      .dead('checksum-failed', { host: '1', target: 22, sender: 10, count: 1 }) // the reliable consumer's: not a tell
      .records;
    const ledger = check(history);
    expect(ledger.pairs.find((p) => p.pair === 'main>1' && p.mode === 'at-most-once')).toMatchObject({ lost: 4, reported: 2, unreported: 2 });
    // the other sender's message into the same consumer is not covered by main's dead letters
    expect(ledger.pairs.find((p) => p.pair === '0>1' && p.mode === 'at-most-once')).toMatchObject({ lost: 1, reported: 0, unreported: 1 });
    expect(ledger.deadLetters).toEqual({ 'checksum-failed': 2 });
  });

  it("at-most-once: a dead worker's mailbox, reported by main with a count and no sender, covers messages of any sender into it, never more than lost", () => {
    const history = run()
      .producer('main', 1)
      .send('main>1', 'at-most-once', [0, 1])
      .send('0>1', 'at-most-once', [0, 1, 2])
      .recv('0>1', 'at-most-once', [2])
      .dead('worker-exited', { host: '1', target: 32, count: 9 })
      .later()
      .send('0>1', 'at-most-once', [3]) // sent after the death was reported
      .records;
    const ledger = check(history);
    expect(ledger.totals['at-most-once']).toMatchObject({ lost: 5, reported: 4, unreported: 1 });
    expect(ledger.pairs.find((p) => p.pair === '0>1' && p.mode === 'at-most-once')!.lostSample).toEqual([0, 1, 3]);
  });

  it('at-most-once: every loss reported passes; reliable counts are left alone', () => {
    const history = run()
      .producer('main', 1)
      .send('main>0', 'at-most-once', [0, 1])
      .send('main>0', 'reliable', [0, 1])
      .recv('main>0', 'reliable', [0])
      .dead('worker-exited', { host: '0', target: 31, count: 2 })
      .dead('worker-exited', { host: '0', target: 21, count: 1 }) // the reliable consumer's mailbox says nothing of tells
      .records;
    const ledger = check(history);
    expect(ledger.totals['at-most-once']).toMatchObject({ lost: 2, reported: 2, unreported: 0 });
    expect(ledger.totals.reliable).toMatchObject({ lost: 1, reported: 0, unreported: 0 });
    expect(ledger.atMostOnceOk).toBe(true);
    expect(ledger.reliableOk).toBe(false);
  });

  it('measures detection, recovery and availability of a fault from the history', () => {
    const t0 = 1_000_000;
    const run: RunRecord = {
      type: 'run',
      scenario: 'unit',
      description: '',
      seed: 1,
      durationMs: 3000,
      quick: true,
      workers: 1,
      hosts: ['main', '0'],
      modes: ['reliable'],
      rate: 100,
      sloMs: 1000,
      t0,
      endAt: t0 + 3000,
      faults: [{ id: 1, label: 'cut main→0', at: 1000, for: 500, action: { kind: 'cut', from: 'main', to: 0 } }],
      actors: { producers: {}, consumers: {} },
      replay: '',
      node: '',
    };
    const history: HistoryRecord[] = [run, { type: 'fault', at: t0 + 1000, action: 'inject', id: 1, label: 'cut main→0', kind: 'cut', lanes: ['main>0'] }];
    history.push({ type: 'resend', at: t0 + 1040, pair: 'main>0', mode: 'reliable', count: 1, reason: 'timeout' });
    history.push({ type: 'fault', at: t0 + 1500, action: 'heal', id: 1, label: 'cut main→0', kind: 'cut' });
    // 100 msgs/s on main>0: delivered 2 ms after the intended time, except those meant for the cut, delivered 20 ms after the heal
    for (let k = 0; k < 300; k++) {
      const intended = t0 + k * 10;
      const inCut = intended >= t0 + 1000 && intended < t0 + 1500;
      history.push({ type: 'recv', at: inCut ? t0 + 1520 + k * 0.01 : intended + 2, pair: 'main>0', mode: 'reliable', k, intended, inc: 1 });
    }
    const m = measure(history);
    expect(m.faults).toHaveLength(1);
    const f = m.faults[0];
    expect(f.affectedPairs).toEqual(['main>0', '0>main']);
    expect(f.detect).toEqual({ ms: 40, signal: 'reliable resend (timeout)' });
    expect(f.recoveryFrom).toEqual({ what: 'heal', at: 500 + 1000 });
    const r = f.modes.reliable!;
    // the first message sent since the cut began and delivered after the heal: slot 150, 2 ms after it
    expect(r.firstSuccessMs).toBe(2);
    // the window's 50 slots on main>0 all arrive within the 1 s SLO (at most 521 ms late), but the
    // window counts both affected pairs and nothing was delivered on 0>main
    expect(r.availability).toBe(0.5);
    expect(r.latency.before).toMatchObject({ p50: 2, p99: 2 });
    expect(r.latency.during.max).toBeGreaterThan(500);
    expect(m.timeline.filter((b) => b.t === 1000)[0].receivedPerSec).toBe(0);
  });

  it('percentiles, durations, times and seeds', () => {
    expect(percentiles([])).toEqual({ count: 0, p50: null, p99: null, p999: null, max: null });
    expect(percentiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toMatchObject({ count: 10, p50: 5, p99: 10, max: 10 });
    expect(parseDuration('30s', 'd')).toBe(30_000);
    expect(parseDuration('1.5m', 'd')).toBe(90_000);
    expect(parseDuration('250ms', 'd')).toBe(250);
    expect(parseDuration('2', 'd')).toBe(2000);
    expect(() => parseDuration('soon', '--duration')).toThrowError(UsageError);
    expect(parseTime('25%', 4000, 't')).toBe(1000);
    expect(parseSeed('42')).toBe(42);
    expect(() => parseSeed('-1')).toThrowError(UsageError);
    expect(() => parseSeed('1e3')).toThrowError(UsageError);
  });

  it('resolves a schedule from the seed, and refuses hosts the system does not have', () => {
    const scenario = { name: 's', description: '', faults: [{ at: '10%', for: '10%', repeat: 3, every: '20%', do: { kind: 'kill-worker' as const, worker: 'random-worker' as const } }] };
    const a = resolveScenario(scenario, { seed: 7, durationMs: 10_000, workers: 4 });
    expect(resolveScenario(scenario, { seed: 7, durationMs: 10_000, workers: 4 })).toEqual(a);
    expect(a.faults.map((f) => f.at)).toEqual([1000, 3000, 5000]);
    expect(() => resolveScenario({ name: 'x', description: '', faults: [{ at: '10%', do: { kind: 'isolate', host: 3 } }] }, { seed: 1, durationMs: 1000, workers: 2 })).toThrowError(/host 3/);
    expect(() => resolveScenario({ name: 'x', description: '', faults: [{ at: '10%', do: { kind: 'kill-worker', worker: 'main' as never } }] }, { seed: 1, durationMs: 1000 })).toThrowError(/not main/);
    expect(() => resolveScenario({ name: 'x', description: '', faults: [{ at: '2s', do: { kind: 'ring-of-majorities' } }] }, { seed: 1, durationMs: 1000 })).toThrowError(/past the end/);
  });
});
