/**
 * A random id of this process, the same in every thread of it: the main
 * thread draws it, and each worker adopts it from its boot data before any
 * actor runs. What is journaled with it (a durable reliable consumer's
 * channel positions) can tell its own process's entries from those a dead
 * process left: the producers of those are gone with it.
 */
import { randomBytes } from 'node:crypto';

let origin: string | undefined;

export function processOrigin(): string {
  return (origin ??= randomBytes(12).toString('base64url'));
}

/** A worker thread takes its process's origin (worker-entry.ts, before the host serves). */
export function adoptProcessOrigin(value: string): void {
  origin = value;
}
