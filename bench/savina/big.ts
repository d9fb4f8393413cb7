/**
 * Savina Big: N actors each send P pings to random neighbours, one at a time
 * (the next after the pong); a neighbour answers each ping with a pong. Every
 * actor tells the sink (actors/sink) when its P pongs are in. 2·N·P messages.
 */
import { defineActor, type ActorRef } from 'troupe';
import { seededRandom } from '../lib.js';

export type BigMessage = { type: 'start'; neighbours: ActorRef[]; self: number; pings: number; sink: ActorRef; seed: number } | { type: 'ping' } | { type: 'pong' };

const kPing = Object.freeze({ type: 'ping' as const });
const kPong = Object.freeze({ type: 'pong' as const });
const kDone = Object.freeze({ type: 'done' as const });

export default defineActor({
  init: () => ({ neighbours: [] as ActorRef[], self: 0, left: 0, sink: undefined as ActorRef | undefined, random: seededRandom(1) }),
  receive(state, msg: BigMessage, ctx) {
    switch (msg.type) {
      case 'ping':
        ctx.reply(kPong);
        return;
      case 'pong':
        if (--state.left === 0) ctx.tell(state.sink!, kDone);
        else ctx.tell(pick(state), kPing);
        return;
      case 'start':
        state.neighbours = msg.neighbours;
        state.self = msg.self;
        state.left = msg.pings;
        state.sink = msg.sink;
        state.random = seededRandom(msg.seed);
        ctx.tell(pick(state), kPing);
    }
  },
});

/** A random neighbour other than this actor. */
function pick(state: { neighbours: ActorRef[]; self: number; random: () => number }): ActorRef {
  const n = state.neighbours.length;
  let i = Math.floor(state.random() * (n - 1));
  if (i >= state.self) i++;
  return state.neighbours[i];
}
