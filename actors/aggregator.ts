import { defineActor, type ActorRef } from 'troupe';

export type AggregatorMessage = { type: 'gather'; refs: ActorRef[]; msg: unknown; timeoutMs?: number };

/**
 * Scatter-gather: asks every ref the same message at once and replies with
 * the answers in order (`{ ok: true, value }` or `{ ok: false, code }` each).
 */
export default defineActor({
  async receive(_state, msg: AggregatorMessage, ctx) {
    const reply = ctx.deferReply<{ ok: boolean; value?: unknown; code?: string }[]>();
    const settled = await Promise.allSettled(msg.refs.map((ref) => ctx.ask(ref, msg.msg, { timeoutMs: msg.timeoutMs ?? 5000 })));
    reply.send(settled.map((s) => (s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, code: String((s.reason as { code?: unknown })?.code ?? 'ERROR') })));
  },
});
