import { defineActor, type ActorRef, type ReplyHandle } from 'troupe';

export type PingPongMessage = { type: 'start'; peer: ActorRef; n: number } | { type: 'ball'; left: number };

/**
 * Two of these rally a ball `n` times (Savina's PingPong). Ask one of them
 * `{ type: 'start', peer, n }`; the reply comes when the rally is over.
 */
export default defineActor({
  init: () => ({ done: undefined as ReplyHandle<number> | undefined, n: 0 }),
  receive(state, msg: PingPongMessage, ctx) {
    if (msg.type === 'start') {
      state.done = ctx.deferReply<number>();
      state.n = msg.n;
      ctx.tell(msg.peer, { type: 'ball', left: msg.n });
      return;
    }
    if (msg.left > 0) {
      ctx.tell(ctx.sender!, { type: 'ball', left: msg.left - 1 });
    } else if (state.done !== undefined) {
      state.done.send(state.n);
      state.done = undefined;
    } else {
      ctx.tell(ctx.sender!, { type: 'ball', left: 0 });
    }
  },
});
