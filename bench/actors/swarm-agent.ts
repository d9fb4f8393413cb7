import { defineActor, type ActorRef } from 'troupe';

export type AgentMessage = { type: 'task'; peer: ActorRef; i: number } | { type: 'help'; i: number };

const kHelped = Object.freeze({ ok: true });

/**
 * An agent of the swarm benchmark. A `task` (asked by the coordinator) makes
 * it ask its peer (an agent on another worker) for `help`, then answer the
 * coordinator with that inter-agent round trip in nanoseconds, timed on its
 * own thread. `help` is answered at once.
 *
 * The task does not await its peer inside the handler (it defers the reply
 * instead): an awaiting handler holds the agent's mailbox, so two agents
 * waiting on each other's help would deadlock, and a chain of them would
 * serialise the whole round.
 */
export default defineActor({
  init: () => ({ tasks: 0, helped: 0 }),
  receive(state, msg: AgentMessage, ctx) {
    if (msg.type === 'help') {
      state.helped++;
      ctx.reply(kHelped);
      return;
    }
    state.tasks++;
    const reply = ctx.deferReply<number>();
    const start = performance.now();
    ctx.ask(msg.peer, { type: 'help', i: msg.i }, { timeoutMs: 60_000 }).then(
      () => reply.send(Math.max(1, Math.round((performance.now() - start) * 1e6))),
      (error: unknown) => reply.fail(error),
    );
  },
});
