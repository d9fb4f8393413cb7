/**
 * The lifecycle events as data: one shape per event type, and the interest
 * bit of each. Events are produced on whichever host they happen, so their
 * shapes live at the host's layer; the main thread's subscription API over
 * them (SystemEvents) is system/events.ts, which re-exports all of this.
 */
import type { HostName } from '../actor/context.js';
import type { WireError } from '../errors.js';
import type { ActorId } from '../lane/directory.js';

interface Base {
  /** Milliseconds since the epoch, sub-millisecond precision. */
  at: number;
  host: HostName;
}

export interface ActorStartedEvent extends Base { type: 'actor.started'; id: ActorId; name?: string }
export interface ActorCrashedEvent extends Base { type: 'actor.crashed'; id: ActorId; name?: string; error: WireError }
export interface ActorRestartedEvent extends Base { type: 'actor.restarted'; id: ActorId; name?: string }
export interface ActorStoppedEvent extends Base { type: 'actor.stopped'; id: ActorId; name?: string; reason: string }
export interface WorkerExitedEvent extends Base { type: 'worker.exited'; exitCode: number; error?: WireError }
export interface WorkerReplacedEvent extends Base { type: 'worker.replaced' }
export interface WorkerStalledEvent extends Base { type: 'worker.stalled'; stalledForMs: number; stallTimeoutMs: number }
export interface DeadLetterEvent extends Base {
  type: 'deadLetter';
  target: ActorId;
  sender?: ActorId;
  /**
   * The undeliverable message, when it could be decoded. An event that comes
   * from a worker carries it only when it is small (at most 4 KiB encoded;
   * `messageOmitted` marks one left out), so dead letters cannot fill memory.
   */
  message?: unknown;
  /** The message was too large to travel with the event (from a worker). */
  messageOmitted?: boolean;
  /** How many messages this event reports (`worker-exited` reports a dead actor's mailbox at once). @default 1 */
  count?: number;
  /**
   * Why: `no-actor`, `crashed`, `stopped`, `decode-failed`, `mailbox-full`, `no-reply-target`, `reply-expired`,
   * `lane-corrupt`, `checksum-failed` (a payload damaged in transit, with the `checksum` option), `reply-after-handler` / `forward-after-handler` (through a ctx whose handler had settled),
   * `link-fault` (dropped by an injected link fault, troupe/chaos), `worker-exited` (in a dead worker's mailboxes),
   * `shutdown` (still queued when a forced shutdown ended the system), `system-stopped` (held in a full lane's
   * overflow when the system stopped).
   */
  reason: string;
  error?: WireError;
  /** The correlation id the message carried, if any. */
  correlationId?: number;
}
export interface BackpressureEvent extends Base { type: 'backpressure'; toHost: HostName; target: ActorId; held: number }
export interface SystemStoppedEvent extends Base {
  type: 'system.stopped';
  forced: boolean;
  /** Messages accepted but never handled (still in lanes or mailboxes when the system ended), each also a `deadLetter` with reason `shutdown`. */
  undelivered?: number;
}
/**
 * A supervisor judged a child's exit (OTP rules): restart it (or its group),
 * remove it, or give up. `host` is where: a root decision may be taken by the
 * worker of the top-level actor it restarts (restart-window.ts).
 */
export interface SupervisorDecidedEvent extends Base {
  type: 'supervisor.decided';
  /** The supervising actor; 0 is the root supervisor. */
  supervisor: ActorId;
  child: ActorId;
  exit: 'normal' | 'abnormal';
  reason: string;
  directive: 'restart' | 'remove' | 'escalate';
  restarted: ActorId[];
  removed: ActorId[];
  /** Backoff before the restart. */
  delayMs: number;
}
/** The root supervisor exceeded its restart intensity: the system stops. */
export interface SystemEscalatedEvent extends Base { type: 'system.escalated'; reason: string }

export type SystemEvent =
  | ActorStartedEvent
  | ActorCrashedEvent
  | ActorRestartedEvent
  | ActorStoppedEvent
  | WorkerExitedEvent
  | WorkerReplacedEvent
  | WorkerStalledEvent
  | DeadLetterEvent
  | BackpressureEvent
  | SystemStoppedEvent
  | SupervisorDecidedEvent
  | SystemEscalatedEvent;

export type SystemEventType = SystemEvent['type'];
export type EventOf<T extends SystemEventType> = Extract<SystemEvent, { type: T }>;

export const kEventBits: Readonly<Record<SystemEventType, number>> = Object.freeze({
  'actor.started': 1 << 0,
  'actor.crashed': 1 << 1,
  'actor.restarted': 1 << 2,
  'actor.stopped': 1 << 3,
  'worker.exited': 1 << 4,
  'worker.replaced': 1 << 5,
  'worker.stalled': 1 << 6,
  deadLetter: 1 << 7,
  backpressure: 1 << 8,
  'system.stopped': 1 << 9,
  'supervisor.decided': 1 << 10,
  'system.escalated': 1 << 11,
});
