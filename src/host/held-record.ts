/**
 * A record kept outside its lane's ring: in an outbox's overflow while the
 * ring is full, or held back by an injected delay fault. Its own module
 * because both the outbox and the link faults hold such records, and neither
 * should import the other to name them.
 */
export interface HeldRecord {
  kindWord: number;
  target: number;
  sender: number;
  corr: number;
  trace: number;
  payload: Uint8Array;
  /** A request of this host's (its position in the lane decides its fate if the consumer dies). */
  awaitsReply?: boolean;
  /** CRC-32 of the payload as sent, when a fault damaged this copy after it was summed (see LaneWriter#reserve); -1 or absent: sum it. */
  checksum?: number;
}
