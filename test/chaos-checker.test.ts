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
  };
  return api;
}

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
    expect(only(history)).toEqual({ attempted: 4, failed: 0, acknowledged: 4, received: 4, lost: 0, indeterminate: 0, duplicated: 0, redelivered: 0, outOfOrder: 0, unexpected: 0 });
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

  it('at-most-once has no indeterminate: what tell accepted and nobody received is lost', () => {
    const history = h().producer('0', 1).send('0>1', 'at-most-once', [0, 1, 2]).producer('0', 2).recv('0>1', 'at-most-once', [0]).records;
    expect(only(history, 'at-most-once')).toMatchObject({ attempted: 3, acknowledged: 3, received: 1, lost: 2, indeterminate: 0 });
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
