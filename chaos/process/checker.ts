/**
 * The checker of a process scenario: after the last kill, a fresh process
 * recovers every ledger from the journal and reads it back; each ledger's
 * list is set against what the client sent, what it saw acknowledged and
 * what was in flight when a kill landed.
 *
 * - acknowledged: the child answered `ok` (its persist had resolved).
 * - indeterminate: sent to an incarnation that was killed before it answered
 *   (like a Jepsen client's crashed operation: it may or may not be there).
 * - lost: sent and neither in the ledger nor indeterminate nor refused with
 *   a typed error (an acknowledged append missing, or one a live process never
 *   answered and never applied).
 * - duplicated: a number in the ledger more than once.
 * - out-of-order: a number below the one before it (appends are sent in
 *   increasing order, and a ledger handles one at a time).
 * - unexpected: a number in the ledger that was never sent.
 *
 * Passes with lost = duplicated = out-of-order = unexpected = 0.
 */
import { zeroCounts, type Counts, type Ledger, type PairLedger } from '../checker.js';

/** What the client knows about one ledger. */
export interface ClientLedger {
  /** Every number sent, in the order sent. */
  sent: number[];
  acked: Set<number>;
  failed: Set<number>;
  indeterminate: Set<number>;
}

export function checkLedgers(client: ClientLedger[], recovered: number[][]): Ledger {
  const pairs: PairLedger[] = client.map((c, i) => {
    const final = recovered[i] ?? [];
    const present = new Set(final);
    const sent = new Set(c.sent);
    const counts: Counts = zeroCounts();
    counts.attempted = c.sent.length;
    counts.failed = c.failed.size;
    counts.acknowledged = c.acked.size;
    counts.received = present.size;
    counts.indeterminate = c.indeterminate.size;
    counts.duplicated = final.length - present.size;
    const lostSample: number[] = [];
    for (const k of c.sent) {
      if (present.has(k) || c.indeterminate.has(k) || c.failed.has(k)) continue;
      counts.lost++;
      if (lostSample.length < 20) lostSample.push(k);
    }
    // A number equal to the one before it is a duplicate (counted above), not also out of order.
    for (let j = 1; j < final.length; j++) if (final[j]! < final[j - 1]!) counts.outOfOrder++;
    for (const k of present) if (!sent.has(k)) counts.unexpected++;
    return { pair: `client>ledger-${i}`, mode: 'reliable', lostSample, ...counts };
  });
  const totals = zeroCounts();
  for (const p of pairs) for (const key of Object.keys(totals) as (keyof Counts)[]) totals[key] += p[key];
  const reliableOk = totals.lost === 0 && totals.duplicated === 0 && totals.outOfOrder === 0 && totals.unexpected === 0;
  return { pairs, totals: { reliable: totals, 'at-most-once': zeroCounts() }, corruptDelivered: 0, reliableOk, atMostOnceOk: true, deadLetters: {} };
}
