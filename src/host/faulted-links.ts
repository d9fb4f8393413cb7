/**
 * The send path of a lane with injected faults (troupe/chaos): each record
 * is judged by the lane's LinkFaults and lost, corrupted, duplicated or
 * delayed as the verdict says; delayed records are released in order by one
 * timer for every lane. A healthy lane never comes here (one load per send
 * tells the two apart, in Outbound#sendRemote).
 */
import { performance } from 'node:perf_hooks';
import { MailboxFullError } from '../errors.js';
import { crc32 } from '../lane/crc32.js';
import type { HostOptions } from '../options.js';
import type { HostCounters } from './counters.js';
import type { DeadLetters } from './dead-letters.js';
import { hostNameOf } from './host-name.js';
import { LinkFaults } from './link-faults.js';
import type { HeldRecord, Outbox } from './outbox.js';

/** What the fault path needs of its host. */
export interface FaultedLinksHost {
  readonly options: HostOptions;
  readonly counters: HostCounters;
  readonly deadLetters: DeadLetters;
}

/** Writes one record into the ring or its overflow (Outbound's own path). */
export type WriteRecord = (out: Outbox, record: HeldRecord, bounded: boolean, awaitsReply: boolean) => boolean;

export class FaultedLinks {
  readonly #host: FaultedLinksHost;
  readonly #write: WriteRecord;
  readonly #delayedOutboxes = new Set<Outbox>();
  #releaseTimer: NodeJS.Timeout | undefined = undefined;
  #releaseAt = 0;

  constructor(host: FaultedLinksHost, write: WriteRecord) {
    this.#host = host;
    this.#write = write;
  }

  /** Sends one record through the lane's faults; `msg` is the message it carries, for the dead letter if they lose it. */
  send(
    out: Outbox,
    kindWord: number,
    target: number,
    sender: number,
    corr: number,
    trace: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    bounded: boolean,
    awaitsReply: boolean,
    msg: unknown,
  ): boolean {
    const { counters, options } = this.#host;
    const faults = (out.faults ??= new LinkFaults());
    // Summed before the fault can damage it, and carried with every copy: a
    // sum of the damaged bytes would match them, as a corrupting link's never would.
    const checksum = out.writer.checksum ? crc32(bytes, start, end) : -1;
    const verdict = faults.judge(out.writer.faultConfig(), bytes.subarray(start, end));
    if (verdict.copies === 0) {
      counters.faultsDropped++;
      this.#host.deadLetters.lostToFault(kindWord, target, sender, corr, trace, msg, awaitsReply);
      return true;
    }
    let payload = bytes.subarray(start, end);
    if (verdict.corrupted !== undefined) {
      payload = verdict.corrupted;
      counters.faultsCorrupted++;
    }
    if (verdict.copies === 2) counters.faultsDuplicated++;
    if (verdict.delayUntil > 0) {
      if (bounded && faults.delayed.length >= options.overflowLimit) {
        throw new MailboxFullError(`host ${String(hostNameOf(out.toHost))}`, options.overflowLimit, 'lane');
      }
      // A copy (not Buffer#slice, a view): the bytes it came from are reused by the next send.
      const record = { kindWord, target, sender, corr, trace, payload: new Uint8Array(payload), releaseAt: verdict.delayUntil, checksum };
      for (let copy = 0; copy < verdict.copies; copy++) faults.delayed.push(record);
      counters.faultsDelayed++;
      this.#delayedOutboxes.add(out);
      this.#armRelease();
      return true;
    }
    const record: HeldRecord = { kindWord, target, sender, corr, trace, payload, checksum };
    if (verdict.copies === 2) this.#write(out, record, false, false);
    return this.#write(out, record, bounded, awaitsReply);
  }

  /** Closing: no more releases (the delayed records are the outboxes' leftovers). */
  close(): void {
    clearTimeout(this.#releaseTimer);
    this.#delayedOutboxes.clear();
  }

  /** One timer for the earliest delayed record of any lane. */
  #armRelease(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const out of this.#delayedOutboxes) earliest = Math.min(earliest, out.faults!.delayed[0]?.releaseAt ?? Number.POSITIVE_INFINITY);
    if (earliest === Number.POSITIVE_INFINITY) return;
    if (this.#releaseTimer !== undefined && this.#releaseAt <= earliest) return;
    clearTimeout(this.#releaseTimer);
    this.#releaseAt = earliest;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      const t = performance.now();
      for (const out of this.#delayedOutboxes) {
        const delayed = out.faults!.delayed;
        while (delayed.length > 0 && delayed[0].releaseAt <= t) this.#write(out, delayed.shift()!, false, false);
        if (delayed.length === 0) this.#delayedOutboxes.delete(out);
      }
      this.#armRelease();
    }, Math.max(0, Math.ceil(earliest - performance.now())));
  }
}
