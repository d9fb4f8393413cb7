/**
 * Which cluster link a gateway actor serves: the gateway is spawned with a
 * token in its args, and finds its link here (the main thread's module
 * graph holds both). Several systems in one process have one token each.
 */
import type { SpawnOptions } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';

export interface GatewayLink {
  watchRemote(watcher: number, ref: ActorRef): Promise<void>;
  unwatchRemote(watcher: number, ref: ActorRef): void;
  /** A worker actor's `ctx.spawn` with `node`. */
  spawnOn(node: string, moduleUrl: string, options: SpawnOptions): Promise<ActorRef>;
  /** A worker's message the link refused (its byte bound): a dead letter, as a refused send on main throws. */
  refused(target: ActorRef, msg: unknown, error: unknown): void;
}

export const kGatewayLinks = new Map<string, GatewayLink>();
