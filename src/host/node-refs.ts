/**
 * Refs to actors on other nodes of a cluster, as a host makes them when it
 * decodes one. The main thread's come from the cluster link, which sends
 * them over NATS; a worker's go through the link's gateway actor on the main
 * thread (a tell or ask of `{ to, m }` over the ordinary lane to main), so
 * they keep the lane's order and an ask keeps its timeout and typed errors.
 */
import { ActorRef, type AskOptions, type RefHost, type TellOptions } from '../actor/ref.js';
import type { NodeAddress } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors.js';
import type { ActorId } from '../lane/directory.js';

export interface NodeRefs {
  refFor(id: number, name: string | undefined, address: NodeAddress): ActorRef;
  /** `ctx.watch` of an actor on another node: a `down` reaches `watcher` when it ends, or with reason `nodedown`. */
  watch(watcher: number, ref: ActorRef): Promise<void>;
  unwatch(watcher: number, ref: ActorRef): void;
}

/** What a worker is told at boot when its system is a cluster node. */
export interface ClusterBoot {
  self: NodeAddress;
  /** The gateway actor on the main thread (cluster/gateway-actor.ts). */
  gateway: number;
}

/** What a worker sends the gateway: a message for another node, or a watch of an actor there. */
export type GatewayEnvelope =
  | {
      to: ActorRef;
      m: unknown;
      /** An ask's timeout (ms). */
      t?: number;
    }
  | { watch: ActorRef }
  | { unwatch: ActorRef };

interface LocalRefs {
  refFor(id: number, name: string | undefined): ActorRef;
  currentSender(): number;
  currentTrace(): number;
  traceOf(options: TellOptions | undefined): number;
  readonly askTimeoutMs: number;
}

export class GatewayRefs implements NodeRefs, RefHost {
  readonly #boot: ClusterBoot;
  readonly #host: LocalRefs;
  #gateway: ActorRef | undefined;

  constructor(boot: ClusterBoot, host: LocalRefs) {
    this.#boot = boot;
    this.#host = host;
  }

  refFor(id: number, name: string | undefined, address: NodeAddress): ActorRef {
    if (address.node === this.#boot.self.node && address.incarnation === this.#boot.self.incarnation) return this.#host.refFor(id, name);
    return new ActorRef(this, id as ActorId, name, { node: address.node, incarnation: address.incarnation });
  }

  get #via(): ActorRef {
    return (this.#gateway ??= this.#host.refFor(this.#boot.gateway, undefined));
  }

  tellFrom(target: ActorRef, msg: unknown, sender: number, trace: number): boolean {
    return this.#via.tellAs({ to: target, m: msg } satisfies GatewayEnvelope, sender, trace);
  }

  askFrom(target: ActorRef, msg: unknown, sender: number, trace: number, options: AskOptions | undefined): Promise<unknown> {
    const timeoutMs = options?.timeoutMs ?? this.#host.askTimeoutMs;
    // The gateway's own ask ends a little before this one, so its typed error arrives instead of a bare timeout.
    return this.#via.askAs({ to: target, m: msg, t: Math.max(1, timeoutMs - 50) } satisfies GatewayEnvelope, sender, trace, { timeoutMs });
  }

  currentSender(): number {
    return this.#host.currentSender();
  }

  currentTrace(): number {
    return this.#host.currentTrace();
  }

  traceOf(options: TellOptions | undefined): number {
    return this.#host.traceOf(options);
  }

  whenWritable(): Promise<void> {
    return this.#via.whenWritable();
  }

  watch(watcher: number, ref: ActorRef): Promise<void> {
    return this.#via.askAs({ watch: ref } satisfies GatewayEnvelope, watcher, 0, { timeoutMs: this.#host.askTimeoutMs }).then(() => undefined);
  }

  unwatch(watcher: number, ref: ActorRef): void {
    this.#via.tellAs({ unwatch: ref } satisfies GatewayEnvelope, watcher, 0);
  }
}

/** Refs decoded by a host of a system that is not a cluster node: any use is a typed error. */
const noCluster = (): never => {
  throw new InvalidArgumentError('a ref to an actor on another cluster node reached a system that is not a cluster node');
};
export const kNoCluster: NodeRefs = { refFor: noCluster, watch: noCluster, unwatch: noCluster };
