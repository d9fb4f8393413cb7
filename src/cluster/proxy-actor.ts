/**
 * A stand-in, on this node's main thread, for an actor of another node that
 * sent this node a message: what its recipients send to `ctx.sender` (a
 * reply to a tell, a reliable channel's acks) comes here and goes on to the
 * actor it stands for, with the same sender and, for an ask, the same answer.
 * One per remote sender, made by the cluster link on the sender's first
 * message, stopped when the sender's node goes down.
 */
import { defineActor } from '../actor/define-actor.js';
import type { ActorRef } from '../actor/ref.js';

export default defineActor({
  init: (args: { to: ActorRef }) => ({ to: args.to }),
  receive(state: { to: ActorRef }, msg: unknown, ctx) {
    ctx.forward(state.to, msg);
  },
});
