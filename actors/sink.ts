import { defineActor, type ReplyHandle } from 'troupe';

export type SinkMessage = { type: 'count' } | { type: 'expect'; n: number } | { type: 'reset' } | unknown;

/**
 * Counts every message it receives. `{ type: 'count' }` replies with the
 * count; `{ type: 'expect', n }` replies once `n` messages have arrived, so a
 * benchmark or test waits for delivery without polling.
 */
export default defineActor({
  init: () => ({ count: 0, waiting: [] as { n: number; reply: ReplyHandle<number> }[] }),
  receive(state, msg: SinkMessage, ctx) {
    const type = typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined;
    if (type === 'count') return ctx.reply(state.count);
    if (type === 'reset') {
      state.count = 0;
      return;
    }
    if (type === 'expect') {
      const n = (msg as { n: number }).n;
      if (state.count >= n) return ctx.reply(state.count);
      state.waiting.push({ n, reply: ctx.deferReply<number>() });
      return;
    }
    state.count++;
    if (state.waiting.length > 0) {
      state.waiting = state.waiting.filter((w) => {
        if (state.count < w.n) return true;
        w.reply.send(state.count);
        return false;
      });
    }
  },
});
