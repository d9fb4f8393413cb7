/**
 * Requests to another node's runtime, over NATS request/reply on the node's
 * control subject: spawn an actor there, look a name up there, stop an actor
 * there. Refs in the requests and answers travel as they do in messages
 * (encodeForNode), so a spawn answers with a live ref to the new actor. A node
 * nobody serves answers at once (NATS no-responders): `TROUPE_ERR_NODE_DOWN`,
 * not a timeout.
 */
import { RequestError, type NatsConnection } from '@nats-io/transport-node';
import { Packr, Unpackr } from 'msgpackr';
import type { SpawnOptions } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { decodeFromNode, encodeForNode, type NodeAddress, type RefFactory } from '../codec/codec.js';
import { AskTimeoutError, DecodeError, NodeDownError, errorFromWire, errorToWire, type WireError } from '../errors.js';
import type { Subjects } from './subjects.js';

/** What a node's runtime does for the others. */
export interface ControlHost {
  spawnLocal(moduleUrl: string, options: SpawnOptions): Promise<ActorRef>;
  watchLocal(watcher: number, target: number): Promise<void>;
  unwatchLocal(watcher: number, target: number): void;
  lookupLocal(name: string): ActorRef | undefined;
  stopLocal(id: number): Promise<void>;
  readonly spawnTimeoutMs: number;
}

/** The part of the link the control requests use. */
export interface ControlLink {
  readonly self: NodeAddress;
  readonly subjects: Subjects;
  readonly nc: NatsConnection;
  readonly refFactory: RefFactory;
  members(): { node: string; incarnation: number }[];
  liveIncarnation(node: string): number | undefined;
  /** Cut off by an injected partition: requests go unanswered, and none are answered. */
  readonly isolated: boolean;
  standIn(from: NodeAddress, sender: number): Promise<number>;
}

type Request =
  | { op: 'spawn'; url: string; options: Uint8Array }
  | { op: 'lookup'; name: string }
  | { op: 'stop'; id: number; incarnation: number }
  | { op: 'ping' }
  /** The watcher's node and incarnation name its stand-in here. */
  | { op: 'watch' | 'unwatch'; id: number; incarnation: number; watcher: number; node: string; nodeIncarnation: number };

type Answer = { ok: Uint8Array | null } | { err: WireError };

const kPackr = new Packr({ useRecords: false, moreTypes: false });
const kUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
/** How long a lookup waits for each node. */
const kLookupTimeoutMs = 2000;

/** Serves this node's control subject; returns how to stop serving. */
export function serveControl(nc: NatsConnection, subject: string, link: ControlLink, host: ControlHost): () => void {
  const subscription = nc.subscribe(subject, {
    callback: (error, msg) => {
      if (error !== null || link.isolated) return;
      const respond = (answer: Answer): void => {
        try {
          msg.respond(kPackr.pack(answer));
        } catch {
          // The asker's connection is gone: nothing to answer.
        }
      };
      answerRequest(msg.data, link, host).then(respond, (failure: unknown) => respond({ err: errorToWire(failure) }));
    },
  });
  return () => subscription.unsubscribe();
}

async function answerRequest(bytes: Uint8Array, link: ControlLink, host: ControlHost): Promise<Answer> {
  let request: Request;
  try {
    request = kUnpackr.unpack(bytes) as Request;
  } catch (error) {
    throw new DecodeError('a malformed control request', { cause: error });
  }
  switch (request?.op) {
    case 'spawn': {
      if (typeof request.url !== 'string' || !(request.options instanceof Uint8Array)) throw new DecodeError('a malformed spawn request');
      const options = decodeFromNode(request.options, 66, link.refFactory) as SpawnOptions;
      const ref = await host.spawnLocal(request.url, options);
      return { ok: encodeForNode(ref, link.self) };
    }
    case 'lookup': {
      if (typeof request.name !== 'string') throw new DecodeError('a malformed lookup request');
      const ref = host.lookupLocal(request.name);
      return { ok: ref === undefined ? null : encodeForNode(ref, link.self) };
    }
    case 'ping':
      return { ok: null };
    case 'watch':
    case 'unwatch': {
      if (typeof request.id !== 'number' || typeof request.watcher !== 'number' || typeof request.node !== 'string' || typeof request.nodeIncarnation !== 'number') {
        throw new DecodeError('a malformed watch request');
      }
      const from: NodeAddress = { node: request.node, incarnation: request.nodeIncarnation };
      const standIn = await link.standIn(from, request.watcher);
      if (request.incarnation !== link.self.incarnation) throw new NodeDownError(link.self.node, 'the incarnation the actor lived on has ended');
      if (request.op === 'watch') await host.watchLocal(standIn, request.id);
      else host.unwatchLocal(standIn, request.id);
      return { ok: null };
    }
    case 'stop':
      if (typeof request.id !== 'number') throw new DecodeError('a malformed stop request');
      if (request.incarnation !== link.self.incarnation) throw new NodeDownError(link.self.node, 'the incarnation the actor lived on has ended');
      await host.stopLocal(request.id);
      return { ok: null };
    default:
      throw new DecodeError('an unknown control request');
  }
}

export class ControlClient {
  readonly #link: ControlLink;

  constructor(link: ControlLink) {
    this.#link = link;
  }

  async spawn(node: string, moduleUrl: string, options: SpawnOptions, timeoutMs: number): Promise<ActorRef> {
    const { node: _where, ...rest } = options as SpawnOptions & { node?: string };
    const answer = await this.#request(node, { op: 'spawn', url: moduleUrl, options: encodeForNode(rest, this.#link.self) }, timeoutMs);
    return answer as ActorRef;
  }

  async lookup(name: string): Promise<ActorRef | undefined> {
    const asks = this.#link.members().map((m) =>
      this.#request(m.node, { op: 'lookup', name }, kLookupTimeoutMs).then(
        (ref) => ref as ActorRef | undefined,
        () => undefined,
      ),
    );
    // The first node that has it answers; nodes that do not, or are gone, count as "not there".
    return new Promise((resolve) => {
      let left = asks.length;
      if (left === 0) resolve(undefined);
      for (const ask of asks) {
        void ask.then((ref) => {
          if (ref !== undefined) resolve(ref);
          else if (--left === 0) resolve(undefined);
        });
      }
    });
  }

  async stop(ref: ActorRef, timeoutMs: number): Promise<void> {
    const address = ref.address!;
    if (this.#link.liveIncarnation(address.node) !== address.incarnation) throw new NodeDownError(address.node, 'not a live member of the cluster');
    await this.#request(address.node, { op: 'stop', id: ref.id, incarnation: address.incarnation }, timeoutMs);
  }

  watch(ref: ActorRef, watcher: number, self: NodeAddress): Promise<void> {
    return this.#watchRequest('watch', ref, watcher, self);
  }

  unwatch(ref: ActorRef, watcher: number, self: NodeAddress): Promise<void> {
    return this.#watchRequest('unwatch', ref, watcher, self);
  }

  async #watchRequest(op: 'watch' | 'unwatch', ref: ActorRef, watcher: number, self: NodeAddress): Promise<void> {
    const address = ref.address!;
    await this.#request(address.node, { op, id: ref.id, incarnation: address.incarnation, watcher, node: self.node, nodeIncarnation: self.incarnation }, kLookupTimeoutMs);
  }

  /** Resolves once `node` answers on its control subject: its connection is up and subscribed. */
  async ping(node: string): Promise<void> {
    await this.#request(node, { op: 'ping' }, 500);
  }

  async #request(node: string, request: Request, timeoutMs: number): Promise<unknown> {
    if (this.#link.isolated) {
      // Nothing crosses a partition: the request times out, as it would on a cut network.
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      throw new AskTimeoutError(`${request.op} on node ${node}`, timeoutMs);
    }
    let reply;
    try {
      reply = await this.#link.nc.request(this.#link.subjects.control(node), kPackr.pack(request), { timeout: timeoutMs });
    } catch (error) {
      if (error instanceof RequestError && error.isNoResponders()) throw new NodeDownError(node, 'no node of that name answers');
      if ((error as Error).name === 'TimeoutError') throw new AskTimeoutError(`${request.op} on node ${node}`, timeoutMs);
      throw new NodeDownError(node, (error as Error).message);
    }
    let answer: Answer;
    try {
      answer = kUnpackr.unpack(reply.data) as Answer;
    } catch (error) {
      throw new DecodeError(`a malformed answer from node ${node}`, { cause: error });
    }
    if ('err' in answer) throw errorFromWire(answer.err);
    return answer.ok === null ? undefined : decodeFromNode(answer.ok, 8, this.#link.refFactory);
  }
}
