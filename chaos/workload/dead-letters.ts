/**
 * The runtime's dead letters, written into the run's history on the thread
 * that reports them. The checker needs every dead letter of an at-most-once
 * message exactly once, and the system's event stream cannot give that: a
 * worker's events reach main through the lanes, which the faults under test
 * cut, and arrive with large messages left out. So every thread listens on its
 * own `troupe:deadLetter` diagnostics channel (synchronous, same thread) and
 * writes to the shared-memory history, which no fault touches.
 *
 * A worker's channel carries only its own dead letters: this module is a
 * worker preload (`workerPreload`), listening before the worker's host exists,
 * spare and replacement workers included. Main's channel also carries what
 * workers forwarded; the runner keeps main's own there (`ownedByMain`),
 * including those main reports for a worker that died or stopped.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { isMainThread } from 'node:worker_threads';
import type { SystemEvent } from 'troupe';
import { HistoryLog, Kind } from './history-log.js';
import { Mode, verify } from './payload.js';

type DeadLetterEvent = Extract<SystemEvent, { type: 'deadLetter' }>;

export const kDeadLetterChannel = 'troupe:deadLetter';

/** Reasons by code in the shared log (0: any other, which the checker still counts). */
export const kDeadLetterReasons = [
  'other',
  'no-actor',
  'stopped',
  'crashed',
  'decode-failed',
  'mailbox-full',
  'link-fault',
  'worker-exited',
  'checksum-failed',
  'system-stopped',
  'runtime-error',
  'lane-corrupt',
  'reply-expired',
  'no-reply-target',
  'shutdown',
] as const;
const kReasonCode = new Map<string, number>(kDeadLetterReasons.map((r, i) => [r, i]));

/**
 * Reasons main gives when it reports for a worker (event.host is the worker):
 * the mailboxes of a dead worker, the record it died handling, the record a
 * worker held when the system stopped. A worker never reports these itself.
 */
const kReportedByMain = new Set(['worker-exited', 'shutdown']);

/** On main: what main reported itself, not what workers forwarded (they record their own). */
export const ownedByMain = (event: DeadLetterEvent): boolean => event.host === 'main' || kReportedByMain.has(event.reason);

/** Host and reason share one field of the record: host indexes stay below 256 (at most 254 workers). */
export const kHostBits = 256;

/**
 * Writes every dead letter `keep` accepts that may be an at-most-once message
 * of the workload: one carrying such a message (with its slot), or one that
 * carries none (the checker matches those by actor ids and count). Reliable
 * frames (top-level arrays) and the workload's own control messages are left
 * out: the reliable layer answers for the first, the second are no traffic.
 * Returns the unsubscribe function.
 */
export function recordDeadLetters(log: HistoryLog, keep: (event: DeadLetterEvent) => boolean): () => void {
  const listener = (message: unknown): void => {
    const event = message as DeadLetterEvent;
    if (event?.type !== 'deadLetter' || !keep(event)) return;
    let k = -1;
    let from = -1;
    const carried = event.message;
    if (carried !== undefined) {
      if (Array.isArray(carried) || isControl(carried)) return;
      const payload = verify(carried);
      if (payload !== undefined) {
        if (payload.m !== Mode.atMostOnce) return;
        k = payload.k;
        from = payload.f;
      }
      // a damaged message that still decoded: recorded without its slot, like one that did not decode
    }
    const host = event.host === 'main' ? 0 : Number(event.host) + 1;
    const reason = kReasonCode.get(event.reason) ?? 0;
    log.write(Kind.deadLetter, event.at, host + kHostBits * reason, k, from, event.target, event.sender ?? -1, event.count ?? 1);
  };
  subscribe(kDeadLetterChannel, listener);
  return () => unsubscribe(kDeadLetterChannel, listener);
}

function isControl(msg: unknown): boolean {
  if (msg === null || typeof msg !== 'object') return false;
  const m = msg as { poison?: unknown; type?: unknown };
  return m.poison === true || m.type === 'status' || m.type === 'stop';
}

if (!isMainThread) {
  // Environment data is copied into a worker when it starts: a worker of this run sees this run's log.
  const log = HistoryLog.attach();
  if (log !== undefined) recordDeadLetters(log, () => true);
}
