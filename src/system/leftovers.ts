/**
 * What a system leaves undelivered when it stops: records still in the lanes
 * (a forced shutdown terminates workers that had not read them) and messages
 * still in the mailboxes of actors that never stopped. Every one is reported
 * as a dead letter (reason `shutdown`), so an accepted message is handled or
 * reported, never dropped in silence. The main thread runs this once every
 * other thread has exited and its own host is closed: the lanes and the
 * directory's mailbox counts are shared memory and outlive the threads.
 */
import type { RefFactory } from '../codec/codec.js';
import { LaneDecoder } from '../codec/codec.js';
import { Kind, kindOf } from '../codec/envelope.js';
import type { ActorId, Directory } from '../lane/directory.js';
import { LaneReader } from '../lane/ring.js';
import type { HostName } from '../actor/context.js';
import type { DeadLetterEvent } from './events.js';

export interface Leftovers {
  lanes: readonly (readonly (SharedArrayBuffer | undefined)[])[];
  hostBlocks: readonly SharedArrayBuffer[];
  directory: Directory;
  maxMessageDepth: number;
  refFactory: RefFactory;
  hostName(index: number): HostName;
  /** Wall-clock time for the events. */
  now(): number;
  emit(event: DeadLetterEvent): void;
}

/** Reports every undelivered message; returns how many there were. */
export function reportLeftovers(leftovers: Leftovers): number {
  return unreadLaneMessages(leftovers) + queuedMailboxMessages(leftovers);
}

/** Tells and asks published into a lane that its consumer never read. */
function unreadLaneMessages(leftovers: Leftovers): number {
  let count = 0;
  const { lanes, hostBlocks } = leftovers;
  for (let from = 0; from < lanes.length; from++) {
    for (let to = 0; to < lanes.length; to++) {
      const lane = lanes[from][to];
      if (lane === undefined) continue;
      const reader = new LaneReader(lane, hostBlocks[from]);
      if (!reader.refresh()) continue;
      let decoder: LaneDecoder | undefined;
      while (reader.next()) {
        const kind = kindOf(reader.kindWord);
        if (kind !== Kind.tell && kind !== Kind.ask) continue;
        count++;
        const event: DeadLetterEvent = { type: 'deadLetter', at: leftovers.now(), host: leftovers.hostName(to), target: reader.target as ActorId, reason: 'shutdown' };
        if (reader.sender !== 0) event.sender = reader.sender as ActorId;
        if (reader.trace !== 0) event.correlationId = reader.trace;
        try {
          decoder ??= new LaneDecoder(lane, leftovers.maxMessageDepth, leftovers.refFactory);
          event.message = decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
        } catch {
          // Reported without its message: the record is what it is.
        }
        leftovers.emit(event);
      }
      reader.commit();
    }
  }
  return count;
}

/** Messages that sat in the mailbox of an actor that was still there when its thread ended. */
function queuedMailboxMessages(leftovers: Leftovers): number {
  let count = 0;
  const { directory } = leftovers;
  for (let host = 0; host < leftovers.hostBlocks.length; host++) {
    for (const id of directory.idsOn(host)) {
      const queued = directory.takeQueued(id);
      if (queued === 0) continue;
      count += queued;
      leftovers.emit({ type: 'deadLetter', at: leftovers.now(), host: leftovers.hostName(host), target: id, reason: 'shutdown', count: queued });
    }
  }
  return count;
}
