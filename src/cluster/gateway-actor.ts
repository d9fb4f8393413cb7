/**
 * The cluster gateway: an actor on the main thread of every cluster node. A
 * worker's refs to other nodes' actors send it `{ to, m, t? }` over the
 * worker's lane to main (host/node-refs.ts); here `to` decodes as a ref of the
 * cluster link, and the message goes on over NATS. An ask is answered later
 * (deferReply), so one slow node never holds up the gateway's other messages.
 */
import { defineActor } from '../actor/define-actor.js';
import { isActorRef } from '../actor/ref.js';
import type { GatewayEnvelope } from '../host/node-refs.js';

export default defineActor({
  init: () => null,
  receive(_state: null, msg: GatewayEnvelope, ctx) {
    if (msg === null || typeof msg !== 'object' || !isActorRef(msg.to) || msg.to.address === undefined) {
      ctx.log.warn('the cluster gateway ignored a message that is not an envelope for another node');
      return;
    }
    // On with the worker actor's own id as the sender: the other node answers it, not the gateway.
    const sender = ctx.sender?.id ?? 0;
    if (msg.t === undefined) {
      msg.to.tellAs(msg.m, sender, 0);
      return;
    }
    const answer = ctx.deferReply();
    msg.to.askAs(msg.m, sender, 0, { timeoutMs: msg.t }).then(
      (value) => answer.send(value),
      (error: unknown) => answer.fail(error),
    );
  },
});
