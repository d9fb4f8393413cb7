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
 * - indeterminate (never counted as lost): reliable mode, accepted by a
 *   producer incarnation that died before the consumer confirmed them (the
 *   producer persists nothing: whether they arrived is unknown to it, as for
 *   a Jepsen client that crashed mid-operation); in both modes, the last send
 *   a producer incarnation that died recorded, if nobody received it (the
 *   thread may have died between recording the send and making it).
 * - duplicated: deliveries of a message to the same consumer incarnation after
 *   its first.
 * - redelivered: deliveries of a message to a later consumer incarnation than
 *   the one that first handled it (the previous one died before its ack left;
 *   allowed by the reliable guarantee, reported apart).
 * - out-of-order: within one consumer incarnation, a first delivery of a
 *   message numbered below one already delivered from the same pair.
 * - unexpected: a delivery of a number never sent on that pair.
 * - reported (at-most-once only): lost messages the runtime owned up to with
 *   a dead letter. Matched exactly by slot when the dead letter carried the
 *   message; else by count, per (sender, target) or, when the event names no
 *   sender (a dead worker's mailbox), per target, and only against messages
 *   sent before the dead letter was reported. A dead letter is never matched
 *   twice, so `reported` never exceeds the dead letters recorded.
 * - unreported: lost − reported. At-most-once promises nothing about
 *   delivery, but it does promise that every loss is reported.
 *
 * Reliable mode passes with lost = duplicated = out-of-order = unexpected = 0;
 * at-most-once with unreported = 0.
 */
import type { HistoryRecord, PairName, RunRecord } from './history.js';
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
  /** At-most-once: lost messages matched to a dead letter. */
  reported: number;
  /** At-most-once: lost − reported. */
  unreported: number;
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
  /** At-most-once mode's verdict: every lost message reported (unreported = 0). */
  atMostOnceOk: boolean;
  /** Messages in the dead letters recorded for the workload's at-most-once traffic, by reason. */
  deadLetters: Record<string, number>;
}

/** Cross-thread clock slack: every thread's wall clock is its own time origin plus a monotonic clock. */
const kClockSlackMs = 10;

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
  reported: 0,
  unreported: 0,
});

interface Stream {
  pair: PairName;
  mode: ModeName;
  /** k → producer incarnation of its (last) send. */
  sends: Map<number, number>;
  /** k → when it was (last) sent. */
  sentAt: Map<number, number>;
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
    if (s === undefined) streams.set(key, (s = { pair, mode, sends: new Map(), sentAt: new Map(), failed: new Set(), confirmed: new Map(), recvK: [], recvInc: [] }));
    return s;
  };
  /** Producer incarnations that were followed by another on the same host: they died. */
  const dead = new Set<number>();
  const lastProducer = new Map<string, number>();
  /**
   * Each producer incarnation's last send record (mode|pair|k). A producer records a send, then makes it: a thread
   * killed between the two leaves a record of a send that may never have been made. So the last send of an
   * incarnation that died, if nobody received it, is indeterminate in at-most-once mode too, never lost.
   */
  const lastSendOf = new Map<number, string>();
  let corruptDelivered = 0;
  let run: RunRecord | undefined;
  const deadLetters: DeadLetter[] = [];
  for (const r of history) {
    switch (r.type) {
      case 'run':
        run = r;
        break;
      case 'send': {
        const s = stream(r.pair, r.mode);
        s.sends.set(r.k, r.inc);
        s.sentAt.set(r.k, r.at);
        lastSendOf.set(r.inc, `${r.mode}|${r.pair}|${r.k}`);
        break;
      }
      case 'dead-letter':
        deadLetters.push(r);
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
  const lostByPair = new Map<PairName, Lost[]>();
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
      const received = incarnationsOf.has(k);
      const uncertain = s.mode === 'at-most-once' && !received && dead.has(inc) && lastSendOf.get(inc) === `${s.mode}|${s.pair}|${k}`;
      if ((s.mode === 'at-most-once' && !uncertain) || confirmed) c.acknowledged++;
      if (received) continue;
      if ((s.mode === 'reliable' && !confirmed && dead.has(inc)) || uncertain) {
        c.indeterminate++;
      } else {
        c.lost++;
        if (c.lostSample.length < 20) c.lostSample.push(k);
        if (s.mode === 'at-most-once') {
          let list = lostByPair.get(s.pair);
          if (list === undefined) lostByPair.set(s.pair, (list = []));
          list.push({ k, sentAt: s.sentAt.get(k) ?? 0, reported: false });
        }
      }
    }
    c.lostSample.sort((a, b) => a - b);
    pairs.push(c);
  }
  const byReason = attribute(lostByPair, deadLetters, run);
  for (const c of pairs) {
    if (c.mode !== 'at-most-once') continue;
    c.reported = lostByPair.get(c.pair)?.filter((m) => m.reported).length ?? 0;
    c.unreported = c.lost - c.reported;
  }
  pairs.sort((a, b) => (a.mode === b.mode ? (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0) : a.mode === 'reliable' ? -1 : 1));
  const totals: Record<ModeName, Counts> = { reliable: zeroCounts(), 'at-most-once': zeroCounts() };
  for (const p of pairs) {
    const t = totals[p.mode];
    for (const key of Object.keys(t) as (keyof Counts)[]) t[key] += p[key];
  }
  const r = totals.reliable;
  return {
    pairs,
    totals,
    corruptDelivered,
    reliableOk: r.lost === 0 && r.duplicated === 0 && r.outOfOrder === 0 && r.unexpected === 0,
    atMostOnceOk: totals['at-most-once'].unreported === 0,
    deadLetters: byReason,
  };
}

type DeadLetter = Extract<HistoryRecord, { type: 'dead-letter' }>;

/** A lost at-most-once message, waiting for a dead letter to account for it. */
interface Lost {
  k: number;
  sentAt: number;
  reported: boolean;
}

/**
 * Marks the lost at-most-once messages that dead letters account for, most
 * specific evidence first: the message itself, then (sender, target), then
 * the target alone. Within a kind, dead letters are taken in time order and
 * each covers the earliest unclaimed messages sent before it; as every dead
 * letter's set of candidates is a prefix (by send time) of the same list,
 * this greedy choice reports as many as any assignment could.
 * Returns the messages recorded as dead letters, by reason.
 */
function attribute(lostByPair: Map<PairName, Lost[]>, deadLetters: DeadLetter[], run: RunRecord | undefined): Record<string, number> {
  const byReason: Record<string, number> = {};
  const hostOf = (ids: Record<string, number> | undefined) => new Map<number, string>(Object.entries(ids ?? {}).map(([host, id]) => [id, host]));
  // Without a consumer of its own for tells (an older history), a target names the shared consumer.
  const consumerHost = hostOf(run?.actors.tells ?? run?.actors.consumers);
  const producerHost = hostOf(run?.actors.producers);
  const lostIndex = new Map<PairName, Map<number, Lost>>();
  for (const [pair, list] of lostByPair) {
    list.sort((a, b) => a.sentAt - b.sentAt);
    lostIndex.set(pair, new Map(list.map((m) => [m.k, m])));
  }
  const pairsInto = (to: string): PairName[] => [...lostByPair.keys()].filter((p) => p.endsWith(`>${to}`));

  const bySender: DeadLetter[] = [];
  const byTarget: DeadLetter[] = [];
  for (const d of deadLetters) {
    const to = consumerHost.get(d.target);
    const carried = d.k !== undefined && d.from !== undefined;
    // the workload's own at-most-once traffic: a message of it, or a record addressed to a consumer of tells
    if (carried || to !== undefined) byReason[d.reason] = (byReason[d.reason] ?? 0) + d.count;
    if (carried) {
      // a damaged target id still leaves the message's own sender and slot: any pair from it will do
      const candidates = to !== undefined ? [`${d.from}>${to}` as PairName] : [...lostByPair.keys()].filter((p) => p.startsWith(`${d.from}>`));
      for (const pair of candidates) {
        const m = lostIndex.get(pair)?.get(d.k!);
        if (m !== undefined && !m.reported) {
          m.reported = true;
          break;
        }
      }
    } else if (to !== undefined) {
      (d.sender !== undefined && producerHost.has(d.sender) ? bySender : byTarget).push(d);
    }
  }
  const claim = (d: DeadLetter, pairs: PairName[]): void => {
    let budget = d.count;
    // the earliest unclaimed message sent before the dead letter, across the candidate pairs
    const heads = pairs.map(() => 0);
    while (budget > 0) {
      let best = -1;
      for (let i = 0; i < pairs.length; i++) {
        const list = lostByPair.get(pairs[i]) ?? [];
        while (heads[i] < list.length && list[heads[i]].reported) heads[i]++;
        const m = list[heads[i]];
        if (m === undefined || m.sentAt > d.at + kClockSlackMs) continue;
        if (best < 0 || m.sentAt < lostByPair.get(pairs[best])![heads[best]].sentAt) best = i;
      }
      if (best < 0) return;
      lostByPair.get(pairs[best])![heads[best]].reported = true;
      budget--;
    }
  };
  const byTime = (a: DeadLetter, b: DeadLetter) => a.at - b.at;
  for (const d of bySender.sort(byTime)) claim(d, [`${producerHost.get(d.sender!)}>${consumerHost.get(d.target)}` as PairName]);
  for (const d of byTarget.sort(byTime)) claim(d, pairsInto(consumerHost.get(d.target)!));
  return byReason;
}
