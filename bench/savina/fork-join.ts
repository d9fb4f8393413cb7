/**
 * Savina Fork-Join: `throughput` actors each receive M messages and do
 * Savina's small computation per message, telling the sink after the M-th;
 * `creation` actors (one per spawn) handle one message, tell the sink and
 * stop themselves.
 */
import { defineActor, type ActorRef } from 'troupe';

/** Savina's `performComputation`: enough work that the JIT cannot drop it. */
export function performComputation(theta: number): number {
  const sint = Math.sin(theta);
  const res = sint * sint;
  if (res <= 0) throw new Error(`unexpected result ${res}`);
  return res;
}

const kDone = Object.freeze({ type: 'done' as const });

export type ThroughputMessage = { type: 'setup'; messages: number; sink: ActorRef } | { type: 'work' };

export const throughput = defineActor({
  init: () => ({ expected: 0, seen: 0, sink: undefined as ActorRef | undefined, sum: 0 }),
  receive(state, msg: ThroughputMessage, ctx) {
    if (msg.type === 'work') {
      state.sum += performComputation(37.2);
      if (++state.seen === state.expected) {
        state.seen = 0;
        ctx.tell(state.sink!, kDone);
      }
      return;
    }
    state.expected = msg.messages;
    state.seen = 0;
    state.sink = msg.sink;
    ctx.reply(true);
  },
});

export const creation = defineActor({
  init: (args: { sink: ActorRef }) => ({ sink: args.sink }),
  receive(state, _msg: { type: 'work' }, ctx) {
    performComputation(37.2);
    ctx.tell(state.sink, kDone);
    void ctx.stop();
  },
});
