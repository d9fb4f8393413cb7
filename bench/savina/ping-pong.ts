/**
 * Savina PingPong: `ping` sends N pings to `pong`, one at a time; each is
 * answered by a pong. Ask `ping` `{ type: 'start', pong, n }`; the reply (the
 * milliseconds from the first ping, timed on ping's thread) comes after the
 * N-th pong (2N messages).
 */
import { defineActor, type ActorRef, type ReplyHandle } from 'troupe';

export type PingMessage = { type: 'start'; pong: ActorRef; n: number } | { type: 'pong' };

const kPing = Object.freeze({ type: 'ping' as const });
const kPong = Object.freeze({ type: 'pong' as const });

export const ping = defineActor({
  init: () => ({ pong: undefined as ActorRef | undefined, left: 0, startedAt: 0, done: undefined as ReplyHandle<number> | undefined }),
  receive(state, msg: PingMessage, ctx) {
    if (msg.type === 'start') {
      state.pong = msg.pong;
      state.left = msg.n;
      state.done = ctx.deferReply<number>();
      state.startedAt = performance.now();
      ctx.tell(msg.pong, kPing);
      return;
    }
    if (--state.left > 0) {
      ctx.tell(state.pong!, kPing);
    } else {
      state.done!.send(performance.now() - state.startedAt);
      state.done = undefined;
    }
  },
});

/** Answers every ping with a pong to its sender. */
export const pong = defineActor({
  receive(_state, _msg: { type: 'ping' }, ctx) {
    ctx.reply(kPong);
  },
});
