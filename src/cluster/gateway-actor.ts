/**
 * The cluster gateway: an actor on the main thread of every cluster node. A
 * worker's refs to other nodes' actors send it `{ to, m, t? }` over the
 * worker's lane to main (host/node-refs.ts); here `to` decodes as a ref of the
 * cluster link, and the message goes on over NATS with the worker actor as
 * its sender. An ask is answered later (deferReply), so one slow node never
 * holds up the gateway's other messages. `{ watch }` and `{ unwatch }` are a
 * worker actor's watches of actors on other nodes, kept by the link;
 * `{ spawn }` a worker actor's `ctx.spawn` on another node.
 */
import { defineActor } from '../actor/define-actor.js';
import { isActorRef, type ActorRef } from '../actor/ref.js';
import type { GatewayEnvelope } from '../host/node-refs.js';
import { ClusterUnavailableError } from '../errors.js';
import { kGatewayLinks } from './gateway-links.js';

const isRemote = (value: unknown): value is ActorRef => isActorRef(value) && value.address !== undefined;

export default defineActor({
  init: (args: { token: string }) => ({ token: args.token }),
  receive(state: { token: string }, msg: GatewayEnvelope, ctx) {
    const sender = ctx.sender?.id ?? 0;
    if (msg !== null && typeof msg === 'object' && 'watch' in msg && isRemote(msg.watch)) {
      const answer = ctx.deferReply();
      const link = kGatewayLinks.get(state.token);
      if (link === undefined) answer.send(undefined);
      else link.watchRemote(sender, msg.watch).then(
        () => answer.send(undefined),
        (error: unknown) => answer.fail(error),
      );
      return;
    }
    if (msg !== null && typeof msg === 'object' && 'spawn' in msg) {
      const answer = ctx.deferReply();
      const link = kGatewayLinks.get(state.token);
      const { node, url, options } = msg.spawn;
      if (link === undefined) answer.fail(new ClusterUnavailableError('this node has left its cluster'));
      else link.spawnOn(node, url, options).then(
        (ref) => answer.send(ref),
        (error: unknown) => answer.fail(error),
      );
      return;
    }
    if (msg !== null && typeof msg === 'object' && 'unwatch' in msg && isRemote(msg.unwatch)) {
      kGatewayLinks.get(state.token)?.unwatchRemote(sender, msg.unwatch);
      return;
    }
    if (msg === null || typeof msg !== 'object' || !('to' in msg) || !isRemote(msg.to)) {
      ctx.log.warn('the cluster gateway ignored a message that is not an envelope for another node');
      return;
    }
    // On with the worker actor's own id as the sender: the other node answers it, not the gateway.
    if (msg.t === undefined) {
      try {
        msg.to.tellAs(msg.m, sender, 0);
      } catch (error) {
        // The link is past its byte bound: the worker's tell was accepted by its lane, so it is a dead letter now.
        kGatewayLinks.get(state.token)?.refused(msg.to, msg.m, error);
      }
      return;
    }
    const answer = ctx.deferReply();
    msg.to.askAs(msg.m, sender, 0, { timeoutMs: msg.t }).then(
      (value) => answer.send(value),
      (error: unknown) => answer.fail(error),
    );
  },
});
