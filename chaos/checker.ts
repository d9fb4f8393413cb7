/**
 * The checker (Jepsen's total-queue idea, per producer→consumer pair): every
 * message is numbered by its slot `k`; after the faults are healed and the
 * workload drained, each attempted message is classified.
 *
 * - attempted: sends invoked.
 * - failed: the send threw (refused at once: definitely not sent).
 * - acknowledged: reliable mode: confirmed by the consumer's ack; at-most-once
 *   mode: accepted by `tell` (the runtime promises nothing more).
 * - received: distinct messages that reached a consumer's handler.
 * - lost: accepted and never received, unless indeterminate. In reliable mode
 *   this includes messages accepted by a producer incarnation that is still
 *   alive (the channel promised them) and messages it saw confirmed.
 * - indeterminate (never counted as lost): reliable mode only, accepted by a
 *   producer incarnation that died before the consumer confirmed them (the
 *   producer persists nothing: whether they arrived is unknown to it, as for
 *   a Jepsen client that crashed mid-operation).
 * - duplicated: deliveries of a message to the same consumer incarnation after
 *   its first.
 * - redelivered: deliveries of a message to a later consumer incarnation than
 *   the one that first handled it (the previous one died before its ack left;
 *   allowed by the reliable guarantee, reported apart).
 * - out-of-order: within one consumer incarnation, a first delivery of a
 *   message numbered below one already delivered from the same pair.
 * - unexpected: a delivery of a number never sent on that pair.
 *
 * Reliable mode passes with lost = duplicated = out-of-order = unexpected = 0.
 */
import type { HistoryRecord, PairName } from './history.js';
import type { ModeName } from './workload/payload.js';

export interface Counts {
  attempted: number;
  failed: number;
  acknowledged: number;
  received: number;
  lost: number;
  indeterminate: number;
  duplicated: number;
  redelivered: number;
  outOfOrder: number;
  unexpected: number;
}

export interface PairLedger extends Counts {
  pair: PairName;
  mode: ModeName;
  /** The first lost slots, for replay and debugging. */
  lostSample: number[];
}

export interface Ledger {
  pairs: PairLedger[];
  totals: Record<ModeName, Counts>;
  /** Damaged messages that reached a handler (only at-most-once messages can: reliable frames carry a checksum). */
  corruptDelivered: number;
  /** Reliable mode's verdict. */
  reliableOk: boolean;
}

export const zeroCounts = (): Counts => ({
  attempted: 0,
  failed: 0,
  acknowledged: 0,
  received: 0,
  lost: 0,
  indeterminate: 0,
  duplicated: 0,
  redelivered: 0,
  outOfOrder: 0,
  unexpected: 0,
});

interface Stream {
  pair: PairName;
  mode: ModeName;
  /** k → producer incarnation of its (last) send. */
  sends: Map<number, number>;
  failed: Set<number>;
  /** Producer incarnation → highest confirmed k. */
  confirmed: Map<number, number>;
  /** Deliveries in arrival order. */
  recvK: number[];
  recvInc: number[];
}

export function check(history: Iterable<HistoryRecord>): Ledger {
  const streams = new Map<string, Stream>();
  const stream = (pair: PairName, mode: ModeName): Stream => {
    const key = `${mode}|${pair}`;
    let s = streams.get(key);
    if (s === undefined) streams.set(key, (s = { pair, mode, sends: new Map(), failed: new Set(), confirmed: new Map(), recvK: [], recvInc: [] }));
    return s;
  };
  /** Producer incarnations that were followed by another on the same host: they died. */
  const dead = new Set<number>();
  const lastProducer = new Map<string, number>();
  let corruptDelivered = 0;
  for (const r of history) {
    switch (r.type) {
      case 'send':
        stream(r.pair, r.mode).sends.set(r.k, r.inc);
        break;
      case 'fail':
        stream(r.pair, r.mode).failed.add(r.k);
        break;
      case 'confirm': {
        const s = stream(r.pair, r.mode);
        s.confirmed.set(r.inc, Math.max(r.k, s.confirmed.get(r.inc) ?? -1));
        break;
      }
      case 'recv': {
        const s = stream(r.pair, r.mode);
        s.recvK.push(r.k);
        s.recvInc.push(r.inc);
        break;
      }
      case 'corrupt':
        corruptDelivered++;
        break;
      case 'producer-start': {
        const previous = lastProducer.get(r.host);
        if (previous !== undefined && previous !== r.inc) dead.add(previous);
        lastProducer.set(r.host, r.inc);
        break;
      }
      default:
        break;
    }
  }

  const pairs: PairLedger[] = [];
  for (const s of streams.values()) {
    const c: PairLedger = { pair: s.pair, mode: s.mode, ...zeroCounts(), lostSample: [] };
    c.attempted = s.sends.size;
    // deliveries: per consumer incarnation, the set seen and the highest number
    const seenBy = new Map<number, Set<number>>();
    const highest = new Map<number, number>();
    const incarnationsOf = new Map<number, Set<number>>();
    for (let i = 0; i < s.recvK.length; i++) {
      const k = s.recvK[i];
      const inc = s.recvInc[i];
      if (!s.sends.has(k)) {
        c.unexpected++;
        continue;
      }
      let seen = seenBy.get(inc);
      if (seen === undefined) seenBy.set(inc, (seen = new Set()));
      if (seen.has(k)) {
        c.duplicated++;
        continue;
      }
      seen.add(k);
      if (k < (highest.get(inc) ?? -Infinity)) c.outOfOrder++;
      highest.set(inc, Math.max(k, highest.get(inc) ?? -Infinity));
      let incs = incarnationsOf.get(k);
      if (incs === undefined) incarnationsOf.set(k, (incs = new Set()));
      else c.redelivered++;
      incs.add(inc);
    }
    c.received = incarnationsOf.size;
    for (const [k, inc] of s.sends) {
      if (s.failed.has(k)) {
        c.failed++;
        continue;
      }
      const confirmed = k <= (s.confirmed.get(inc) ?? -1);
      if (s.mode === 'at-most-once' || confirmed) c.acknowledged++;
      if (incarnationsOf.has(k)) continue;
      if (s.mode === 'reliable' && !confirmed && dead.has(inc)) {
        c.indeterminate++;
      } else {
        c.lost++;
        if (c.lostSample.length < 20) c.lostSample.push(k);
      }
    }
    c.lostSample.sort((a, b) => a - b);
    pairs.push(c);
  }
  pairs.sort((a, b) => (a.mode === b.mode ? (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0) : a.mode === 'reliable' ? -1 : 1));
  const totals: Record<ModeName, Counts> = { reliable: zeroCounts(), 'at-most-once': zeroCounts() };
  for (const p of pairs) {
    const t = totals[p.mode];
    for (const key of Object.keys(t) as (keyof Counts)[]) t[key] += p[key];
  }
  const r = totals.reliable;
  return { pairs, totals, corruptDelivered, reliableOk: r.lost === 0 && r.duplicated === 0 && r.outOfOrder === 0 && r.unexpected === 0 };
}
