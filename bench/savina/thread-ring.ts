/**
 * Savina ThreadRing: N actors in a ring pass a token R times. Link each
 * actor to its successor (and to the first, which answers the driver), then
 * ask the first `{ type: 'start', hops }`; the actor that receives the token
 * with no hops left tells the first, which replies with the milliseconds
 * since it sent the token (timed on its own thread).
 */
import { defineActor, type ActorRef, type ReplyHandle } from 'troupe';

export type RingMessage =
  | { type: 'link'; next: ActorRef; first: ActorRef }
  | { type: 'start'; hops: number }
  | { type: 'token'; left: number }
  | { type: 'finished' };

const kFinished = Object.freeze({ type: 'finished' as const });

export default defineActor({
  init: () => ({ next: undefined as ActorRef | undefined, first: undefined as ActorRef | undefined, done: undefined as ReplyHandle<number> | undefined, startedAt: 0 }),
  receive(state, msg: RingMessage, ctx) {
    switch (msg.type) {
      case 'token':
        if (msg.left > 0) ctx.tell(state.next!, { type: 'token', left: msg.left - 1 });
        else ctx.tell(state.first!, kFinished);
        return;
      case 'link':
        state.next = msg.next;
        state.first = msg.first;
        ctx.reply(true);
        return;
      case 'start':
        state.done = ctx.deferReply<number>();
        state.startedAt = performance.now();
        ctx.tell(state.next!, { type: 'token', left: msg.hops - 1 });
        return;
      case 'finished':
        state.done?.send(performance.now() - state.startedAt);
        state.done = undefined;
    }
  },
});
