/**
 * The signals in a host block (lane/layout.ts, HOST_*): the doorbell a
 * producer rings when the consumer is parked, the parked flag, the heartbeat
 * the main thread watches for stalls, the host's state, and the chaos
 * throttle. A host block belongs to one host but is written by every thread
 * that talks to it, so every access is atomic and lives here, beside the ring.
 */
import { HOST_DOORBELL, HOST_HEARTBEAT, HOST_PARKED, HOST_STATE, HOST_THROTTLE } from './layout.js';

/** Rings a host's doorbell only if it is parked; an unconditional notify costs the producer ~10 µs. */
export function ringDoorbell(hostBlock: Int32Array): boolean {
  if (Atomics.load(hostBlock, HOST_PARKED) === 0) return false;
  forceDoorbell(hostBlock);
  return true;
}

export function forceDoorbell(hostBlock: Int32Array): void {
  Atomics.add(hostBlock, HOST_DOORBELL, 1);
  Atomics.notify(hostBlock, HOST_DOORBELL);
}

/**
 * Parking protocol (Dekker-style): the consumer stores PARKED=1, then checks
 * its lanes; a producer publishes, then loads PARKED. With sequentially
 * consistent atomics one of the two always sees the other, so no wake-up is
 * lost. The doorbell value is read before the check so a ring in between makes
 * the wait return at once.
 */
export function markParked(hostBlock: Int32Array): number {
  Atomics.store(hostBlock, HOST_PARKED, 1);
  return Atomics.load(hostBlock, HOST_DOORBELL);
}

export function markAwake(hostBlock: Int32Array): void {
  Atomics.store(hostBlock, HOST_PARKED, 0);
}

export function isParked(hostBlock: Int32Array): boolean {
  return Atomics.load(hostBlock, HOST_PARKED) !== 0;
}

/** Resolves when the doorbell moves away from `seen` (or at once if it already has). */
export function waitDoorbell(hostBlock: Int32Array, seen: number): Promise<unknown> | undefined {
  const result = Atomics.waitAsync(hostBlock, HOST_DOORBELL, seen);
  return result.async ? result.value : undefined;
}

export function beat(hostBlock: Int32Array): void {
  Atomics.add(hostBlock, HOST_HEARTBEAT, 1);
}

export function readHeartbeat(hostBlock: Int32Array): number {
  return Atomics.load(hostBlock, HOST_HEARTBEAT);
}

export function setHostState(hostBlock: Int32Array, state: number): void {
  Atomics.store(hostBlock, HOST_STATE, state);
}

export function hostState(hostBlock: Int32Array): number {
  return Atomics.load(hostBlock, HOST_STATE);
}

/** Sets a host's slow-consumer throttle (records per millisecond; 0 lifts it). */
export function setHostThrottle(hostBlock: SharedArrayBuffer, recordsPerMs: number): void {
  Atomics.store(new Int32Array(hostBlock, 0, 16), HOST_THROTTLE, recordsPerMs);
}
