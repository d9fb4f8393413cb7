/**
 * Refs to actors on other nodes of a cluster, as a host makes them when it
 * decodes one. The main thread's come from the cluster link, which sends
 * them over NATS; a worker's go through the link's gateway actor on the main
 * thread (a tell or ask of `{ to, m }` over the ordinary lane to main), so
 * they keep the lane's order and an ask keeps its timeout and typed errors.
 */
import type { SpawnOptions } from '../actor/context.js';
import { ActorRef, type AskOptions, type RefHost, type TellOptions } from '../actor/ref.js';
import type { NodeAddress } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors.js';
import type { ActorId } from '../lane/directory.js';

export interface NodeRefs {
  /** This node's name; undefined when the system is not a cluster node. */
  readonly selfNode: string | undefined;
  refFor(id: number, name: string | undefined, address: NodeAddress): ActorRef;
  /** Starts an actor on another node, under that node's root supervisor (`ctx.spawn` with `node`). */
  spawnOn(node: string, moduleUrl: string, options: SpawnOptions): Promise<ActorRef>;
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
  | { unwatch: ActorRef }
  | { spawn: { node: string; url: string; options: SpawnOptions } };

interface LocalRefs {
  refFor(id: number, name: string | undefined): ActorRef;
  currentSender(): number;
  currentTrace(): number;
  traceOf(options: TellOptions | undefined): number;
  readonly askTimeoutMs: number;
  readonly spawnTimeoutMs: number;
}

export class GatewayRefs implements NodeRefs, RefHost {
  readonly #boot: ClusterBoot;
  readonly #host: LocalRefs;
  #gateway: ActorRef | undefined;

  constructor(boot: ClusterBoot, host: LocalRefs) {
    this.#boot = boot;
    this.#host = host;
  }

  get selfNode(): string {
    return this.#boot.self.node;
  }

  spawnOn(node: string, moduleUrl: string, options: SpawnOptions): Promise<ActorRef> {
    // The gateway's request to the other node ends a little before this ask, so its typed error comes back instead.
    return this.#via.askAs({ spawn: { node, url: moduleUrl, options } } satisfies GatewayEnvelope, 0, 0, { timeoutMs: this.#host.spawnTimeoutMs + 1000 }) as Promise<ActorRef>;
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

/**
 * `ctx.spawn(url, { node })`: the child runs on that node under its root
 * supervisor (supervision stays per node, as in Erlang and Akka), and the
 * spawning actor watches it, so it learns of its end (`down`, reason
 * `nodedown` when the node is lost) as a supervisor of remote children.
 * Naming this node itself spawns an ordinary child.
 */
export async function spawnOnNode(
  refs: NodeRefs,
  parent: number,
  moduleUrl: URL | string,
  options: SpawnOptions,
  spawnHere: (moduleUrl: URL | string, options: SpawnOptions) => Promise<ActorRef>,
): Promise<ActorRef> {
  const { node, ...rest } = options;
  if (typeof node !== 'string' || node.length === 0) throw new InvalidArgumentError('ctx.spawn option "node" must be a node name (a non-empty string)');
  if (refs.selfNode === undefined) throw new InvalidArgumentError(`ctx.spawn option node ${JSON.stringify(node)} needs a cluster: start the system with the cluster option`);
  if (node === refs.selfNode) return spawnHere(moduleUrl, rest);
  const child = await refs.spawnOn(node, moduleUrl instanceof URL ? moduleUrl.href : String(moduleUrl), rest);
  await refs.watch(parent, child);
  return child;
}

/** Refs decoded by a host of a system that is not a cluster node: any use is a typed error. */
const noCluster = (): never => {
  throw new InvalidArgumentError('a ref to an actor on another cluster node reached a system that is not a cluster node');
};
export const kNoCluster: NodeRefs = { selfNode: undefined, refFor: noCluster, spawnOn: noCluster, watch: noCluster, unwatch: noCluster };
